// Compile error: a missing semicolon.
public class Semicolon {
    public static void main(String[] args) {
        double a = 3, b = 4
        System.out.println(Math.sqrt(a * a + b * b));
    }
}
