#include <iostream>
#include <random>
#include <string>

int main() {
    std::random_device device;
    std::mt19937 generator(device());
    std::uniform_int_distribution<int> oneToHundred(1, 100);
    const int secret = oneToHundred(generator);
    std::cout << "I'm thinking of a number from 1 to 100. You have 7 tries." << std::endl;

    for (int attempt = 1; attempt <= 7; attempt++) {
        std::cout << "Guess #" << attempt << ": " << std::flush;
        std::string line;
        if (!std::getline(std::cin, line)) {
            std::cout << "\nBye! The number was " << secret << std::endl;
            return 0;
        }
        int guess;
        try {
            guess = std::stoi(line);
        } catch (const std::exception &) {
            std::cout << "Please type a whole number." << std::endl;
            continue;
        }
        if (guess < secret) {
            std::cout << "Too low." << std::endl;
        } else if (guess > secret) {
            std::cout << "Too high." << std::endl;
        } else {
            std::cout << "You got it in " << attempt << " tries!" << std::endl;
            return 0;
        }
    }
    std::cout << "Out of tries! The number was " << secret << std::endl;
    return 0;
}
