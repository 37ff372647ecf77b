// Compile error: a missing semicolon.
public class Semicolon {
    public static void main(String[] args) {
        System.out.println(500)
        System.out.flush();
    }
}
