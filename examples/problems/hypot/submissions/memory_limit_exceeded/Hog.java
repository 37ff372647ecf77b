// Memory limit exceeded: keeps 16 MiB long[] arrays (filled, so really used) in a list forever.
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public class Hog {
    public static void main(String[] args) {
        List<long[]> chunks = new ArrayList<>();
        while (true) {
            long[] chunk = new long[2 << 20];  // 2 Mi longs x 8 bytes = 16 MiB
            Arrays.fill(chunk, chunks.size());
            chunks.add(chunk);
        }
    }
}
