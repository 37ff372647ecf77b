// Time limit exceeded: reads the input, then spins in a busy CPU loop forever.
import java.io.IOException;

public class Spin {
    static volatile boolean done = false;  // never set: the loop below never ends

    public static void main(String[] args) throws IOException {
        System.in.readAllBytes();
        long spins = 0;
        while (!done)
            spins++;
        System.out.println(spins);
    }
}
