#include <iostream>
#include <string>

int main() {
    // Count from 1 to 5
    for (int i = 1; i <= 5; i++) {
        std::cout << "Counting: " << i << "\n";
    }

    // Add up the numbers from 1 to 100
    int total = 0;
    for (int n = 1; n <= 100; n++) {
        total += n;
    }
    std::cout << "1 + 2 + ... + 100 = " << total << "\n";

    // Draw a triangle
    const int size = 5;
    int row = 1;
    while (row <= size) {
        std::cout << std::string(size - row, ' ') << std::string(2 * row - 1, '*') << "\n";
        row++;
    }
    return 0;
}
