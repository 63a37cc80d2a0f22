package example;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Keeps every megabyte it allocates: the JVM's heap limit must stop it before the cgroup's does. */
public class Hungry {
    private static final List<byte[]> KEPT = new ArrayList<>();

    public Map<String, Object> handleRequest(Map<String, Object> event) {
        while (true) {
            byte[] block = new byte[1 << 20];
            block[block.length - 1] = 1;
            KEPT.add(block);
        }
    }
}
