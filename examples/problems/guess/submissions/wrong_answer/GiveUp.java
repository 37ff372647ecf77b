// Wrong answer: binary search that stops after 5 guesses, before finding most numbers.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

public class GiveUp {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int lo = 1, hi = 1000;
        for (int guesses = 0; guesses < 5 && lo <= hi; guesses++) {
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
