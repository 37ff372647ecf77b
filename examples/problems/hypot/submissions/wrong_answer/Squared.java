// Wrong answer: prints a*a + b*b, forgetting the square root.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

public class Squared {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < n; i++) {
            StringTokenizer t = new StringTokenizer(in.readLine());
            long a = Long.parseLong(t.nextToken()), b = Long.parseLong(t.nextToken());
            out.append(a * a + b * b).append('\n');
        }
        System.out.print(out);
    }
}
