import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        System.out.print("What is your name? ");
        String name = in.hasNextLine() ? in.nextLine() : "";
        System.out.println("Hello, " + name + "!");

        System.out.print("How old are you? ");
        if (in.hasNextInt()) {
            int age = in.nextInt();
            System.out.println("Next year you will be " + (age + 1) + ".");
        }
    }
}
