package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/** The behaviour-test handler as a RequestHandler: the runtime maps the event to a POJO and the result to JSON. */
public class PojoHandler implements RequestHandler<PojoHandler.Request, Object> {
    private static int count = 0;

    static {
        if (System.getenv("FAIL_INIT") != null) {
            throw new IllegalStateException("init failed");
        }
    }

    /** The event's fields this handler reads. */
    public static class Request {
        public String op;
        public double s;
    }

    @Override
    public Object handleRequest(Request request, Context context) {
        LambdaLogger logger = context.getLogger();
        logger.log("handling " + request.op);
        switch (request.op) {
            case "count":
                count += 1;
                return Map.of("count", count);
            case "fail":
                throw new IllegalArgumentException("bad input");
            case "sleep":
                try {
                    Thread.sleep((long) (request.s * 1000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "slept";
            case "exit":
                System.exit(3);
                return null;
            case "whoami":
                try {
                    return Map.of("uid", Uid.of(), "task_root", System.getenv("LAMBDA_TASK_ROOT"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            default:
                return Map.of("echo", request.op);
        }
    }
}
