import java.util.Random;
import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        int secret = new Random().nextInt(100) + 1;
        System.out.println("I'm thinking of a number from 1 to 100. You have 7 tries.");

        for (int attempt = 1; attempt <= 7; attempt++) {
            System.out.print("Guess #" + attempt + ": ");
            System.out.flush();
            if (!in.hasNextLine()) {
                System.out.println("\nBye! The number was " + secret);
                return;
            }
            int guess;
            try {
                guess = Integer.parseInt(in.nextLine().trim());
            } catch (NumberFormatException e) {
                System.out.println("Please type a whole number.");
                continue;
            }
            if (guess < secret) {
                System.out.println("Too low.");
            } else if (guess > secret) {
                System.out.println("Too high.");
            } else {
                System.out.println("You got it in " + attempt + " tries!");
                return;
            }
        }
        System.out.println("Out of tries! The number was " + secret);
    }
}
