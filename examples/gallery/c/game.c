#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void) {
    srand((unsigned) time(NULL));
    int secret = rand() % 100 + 1;
    printf("I'm thinking of a number from 1 to 100. You have 7 tries.\n");

    for (int attempt = 1; attempt <= 7; attempt++) {
        char line[100];
        printf("Guess #%d: ", attempt);
        fflush(stdout);
        if (fgets(line, sizeof line, stdin) == NULL) {
            printf("\nBye! The number was %d\n", secret);
            return 0;
        }
        char *end;
        long guess = strtol(line, &end, 10);
        if (end == line) {
            printf("Please type a whole number.\n");
        } else if (guess < secret) {
            printf("Too low.\n");
        } else if (guess > secret) {
            printf("Too high.\n");
        } else {
            printf("You got it in %d tries!\n", attempt);
            return 0;
        }
    }
    printf("Out of tries! The number was %d\n", secret);
    return 0;
}
