package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** The behaviour-test handler as a RequestStreamHandler: raw JSON in, raw JSON out (Gson from lib/). */
public class StreamHandler implements RequestStreamHandler {
    private static final Gson GSON = new Gson();
    private static int count = 0;

    static {
        if (System.getenv("FAIL_INIT") != null) {
            throw new IllegalStateException("init failed");
        }
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        JsonObject event = GSON.fromJson(new InputStreamReader(input, StandardCharsets.UTF_8), JsonObject.class);
        String op = event.get("op").getAsString();
        System.out.println("handling " + op);
        output.write(GSON.toJson(respond(op, event)).getBytes(StandardCharsets.UTF_8));
    }

    private static Object respond(String op, JsonObject event) throws IOException {
        switch (op) {
            case "count":
                count += 1;
                JsonObject counted = new JsonObject();
                counted.addProperty("count", count);
                return counted;
            case "fail":
                throw new IllegalArgumentException("bad input");
            case "sleep":
                try {
                    Thread.sleep((long) (event.get("s").getAsDouble() * 1000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "slept";
            case "exit":
                System.exit(3);
                return null;
            case "whoami":
                JsonObject who = new JsonObject();
                who.addProperty("uid", Uid.of());
                who.addProperty("task_root", System.getenv("LAMBDA_TASK_ROOT"));
                return who;
            default:
                JsonObject echo = new JsonObject();
                echo.addProperty("echo", op);
                return echo;
        }
    }
}
