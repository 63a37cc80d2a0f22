package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The behaviour-test handler as a RequestStreamHandler: raw JSON bytes in and out, no mapping by the runtime
 *  (the suite's events are flat: {"op": "...", "s": 0.5}, so a pattern reads them). */
public class StreamHandler implements RequestStreamHandler {
    private static final Pattern OP = Pattern.compile("\"op\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern SECONDS = Pattern.compile("\"s\"\\s*:\\s*([0-9.]+)");
    private static int count = 0;

    static {
        if (System.getenv("FAIL_INIT") != null) {
            throw new IllegalStateException("init failed");
        }
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        String event = new String(input.readAllBytes(), StandardCharsets.UTF_8);
        String op = field(OP, event, "");
        System.out.println("handling " + op);
        output.write(respond(op, event).getBytes(StandardCharsets.UTF_8));
    }

    private static String field(Pattern pattern, String event, String otherwise) {
        Matcher found = pattern.matcher(event);
        return found.find() ? found.group(1) : otherwise;
    }

    private static String respond(String op, String event) throws IOException {
        switch (op) {
            case "count":
                count += 1;
                return "{\"count\": " + count + "}";
            case "fail":
                throw new IllegalArgumentException("bad input");
            case "sleep":
                try {
                    Thread.sleep((long) (Double.parseDouble(field(SECONDS, event, "0")) * 1000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "\"slept\"";
            case "exit":
                System.exit(3);
                return null;
            case "whoami":
                return "{\"uid\": " + Uid.of() + ", \"task_root\": \"" + System.getenv("LAMBDA_TASK_ROOT") + "\"}";
            default:
                return "{\"echo\": \"" + op + "\"}";
        }
    }
}
