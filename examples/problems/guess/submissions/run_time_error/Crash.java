// Run-time error: makes one guess, then throws a RuntimeException (the JVM exits with code 1).
// A JVM closes its stdout some milliseconds before the process ends, so the
// validator often sees the end of the conversation first and rejects it;
// under the Kattis rules a validator that finishes first with WA wins. Hence:
// @EXPECTED_RESULTS@: RUN-ERROR, WRONG-ANSWER
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
