// Time limit exceeded: "thinks" in a busy CPU loop forever before its first guess.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

public class Spin {
    static volatile boolean ready = false;  // never set: the loop below never ends

    public static void main(String[] args) throws IOException {
        long spins = 0;
        while (!ready)
            spins++;

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int lo = 1, hi = 1000;
        while (lo <= hi) {
            int mid = (lo + hi) / 2;
            System.out.println(mid);
            System.out.flush();
            String reply = in.readLine();
            if (reply == null || reply.trim().equals("correct"))
                return;
            if (reply.trim().equals("lower"))
                hi = mid - 1;
            else
                lo = mid + 1;
        }
    }
}
