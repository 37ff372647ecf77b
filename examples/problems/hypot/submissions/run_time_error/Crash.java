// Run-time error: throws a RuntimeException (the JVM exits with code 1).
public class Crash {
    public static void main(String[] args) {
        throw new RuntimeException("not implemented yet");
    }
}
