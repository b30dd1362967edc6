#include <stdio.h>
#include <string.h>

int main(void) {
    char name[100];
    int age;

    printf("What is your name? ");
    if (fgets(name, sizeof name, stdin) == NULL) {
        return 0;
    }
    name[strcspn(name, "\n")] = '\0';  /* drop the newline */
    printf("Hello, %s!\n", name);

    printf("How old are you? ");
    if (scanf("%d", &age) == 1) {
        printf("Next year you will be %d.\n", age + 1);
    }
    return 0;
}
