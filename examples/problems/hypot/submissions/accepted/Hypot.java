// Accepted: Math.sqrt on longs converted to double, printed with 10 decimals.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.Locale;
import java.util.StringTokenizer;

public class Hypot {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < n; i++) {
            StringTokenizer t = new StringTokenizer(in.readLine());
            long a = Long.parseLong(t.nextToken()), b = Long.parseLong(t.nextToken());
            // Locale.ROOT: a decimal point, never a comma, whatever the system's locale.
            out.append(String.format(Locale.ROOT, "%.10f\n", Math.sqrt((double) (a * a + b * b))));
        }
        System.out.print(out);
    }
}
