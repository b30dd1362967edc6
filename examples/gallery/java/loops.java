public class Main {
    public static void main(String[] args) {
        // Count from 1 to 5
        for (int i = 1; i <= 5; i++) {
            System.out.println("Counting: " + i);
        }

        // Add up the numbers from 1 to 100
        int total = 0;
        for (int n = 1; n <= 100; n++) {
            total += n;
        }
        System.out.println("1 + 2 + ... + 100 = " + total);

        // Draw a triangle
        int size = 5;
        int row = 1;
        while (row <= size) {
            System.out.println(" ".repeat(size - row) + "*".repeat(2 * row - 1));
            row++;
        }

        // Go through the items of an array
        String[] fruits = {"apple", "banana", "cherry"};
        for (String fruit : fruits) {
            System.out.println("I like " + fruit + "s");
        }
    }
}
