#include <stdio.h>

int main(void) {
    /* Count from 1 to 5 */
    for (int i = 1; i <= 5; i++) {
        printf("Counting: %d\n", i);
    }

    /* Add up the numbers from 1 to 100 */
    int total = 0;
    for (int n = 1; n <= 100; n++) {
        total += n;
    }
    printf("1 + 2 + ... + 100 = %d\n", total);

    /* Draw a triangle */
    int size = 5;
    int row = 1;
    while (row <= size) {
        for (int s = 0; s < size - row; s++) putchar(' ');
        for (int s = 0; s < 2 * row - 1; s++) putchar('*');
        putchar('\n');
        row++;
    }
    return 0;
}
