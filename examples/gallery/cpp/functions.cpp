#include <iostream>
#include <string>
#include <vector>

// n! = 1 * 2 * ... * n
long factorial(int n) {
    long result = 1;
    for (int i = 2; i <= n; i++) {
        result *= i;
    }
    return result;
}

bool isPrime(int n) {
    if (n < 2) return false;
    for (int d = 2; d * d <= n; d++) {
        if (n % d == 0) return false;
    }
    return true;
}

std::string greet(const std::string &name, const std::string &greeting = "Hello") {
    return greeting + ", " + name + "!";
}

int main() {
    std::cout << "5! = " << factorial(5) << "\n";
    std::vector<int> primes;
    for (int n = 0; n < 30; n++) {
        if (isPrime(n)) primes.push_back(n);
    }
    std::cout << "Primes below 30:";
    for (int p : primes) std::cout << " " << p;
    std::cout << "\n";
    std::cout << greet("Ada") << "\n";
    std::cout << greet("Alan", "Welcome") << "\n";
    return 0;
}
