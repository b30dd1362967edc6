#include <stdio.h>
#include <stdbool.h>

/* n! = 1 * 2 * ... * n */
long factorial(int n) {
    long result = 1;
    for (int i = 2; i <= n; i++) {
        result *= i;
    }
    return result;
}

bool is_prime(int n) {
    if (n < 2) return false;
    for (int d = 2; d * d <= n; d++) {
        if (n % d == 0) return false;
    }
    return true;
}

void greet(const char *greeting, const char *name) {
    printf("%s, %s!\n", greeting, name);
}

int main(void) {
    printf("5! = %ld\n", factorial(5));
    printf("Primes below 30:");
    for (int n = 0; n < 30; n++) {
        if (is_prime(n)) printf(" %d", n);
    }
    printf("\n");
    greet("Hello", "Ada");
    greet("Welcome", "Alan");
    return 0;
}
