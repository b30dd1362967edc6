public class Main {
    // n! = 1 * 2 * ... * n
    static long factorial(int n) {
        long result = 1;
        for (int i = 2; i <= n; i++) {
            result *= i;
        }
        return result;
    }

    static boolean isPrime(int n) {
        if (n < 2) return false;
        for (int d = 2; d * d <= n; d++) {
            if (n % d == 0) return false;
        }
        return true;
    }

    static String greet(String name) {
        return greet(name, "Hello");
    }

    static String greet(String name, String greeting) {
        return greeting + ", " + name + "!";
    }

    public static void main(String[] args) {
        System.out.println("5! = " + factorial(5));
        StringBuilder primes = new StringBuilder("Primes below 30:");
        for (int n = 0; n < 30; n++) {
            if (isPrime(n)) primes.append(" ").append(n);
        }
        System.out.println(primes);
        System.out.println(greet("Ada"));
        System.out.println(greet("Alan", "Welcome"));
    }
}
