// Run-time error: makes one guess, then throws a RuntimeException (the JVM exits with code 1).
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

public class Crash {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        System.out.println(500);
        System.out.flush();
        String reply = in.readLine();
        throw new RuntimeException("cannot handle the reply " + reply);
    }
}
