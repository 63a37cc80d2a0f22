package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The behaviour-test handler on AWS's aws-lambda-java-core, run by AWS's runtime interface client: the
 *  event reaches a bean through its setters, as aws-lambda-java-serialization maps it. */
public class AwsHandler implements RequestHandler<AwsHandler.Request, Object> {
    private static int count = 0;

    static {
        if (System.getenv("FAIL_INIT") != null) {
            throw new IllegalStateException("init failed");
        }
    }

    /** The event's fields this handler reads, as a bean. */
    public static class Request {
        private String op;
        private double s;

        public String getOp() { return op; }
        public void setOp(String op) { this.op = op; }
        public double getS() { return s; }
        public void setS(double s) { this.s = s; }
    }

    @Override
    public Object handleRequest(Request request, Context context) {
        context.getLogger().log("handling " + request.getOp());
        switch (request.getOp()) {
            case "count":
                count += 1;
                return Map.of("count", count);
            case "fail":
                throw new IllegalArgumentException("bad input");
            case "sleep":
                try {
                    Thread.sleep((long) (request.getS() * 1000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "slept";
            case "exit":
                System.exit(3);
                return null;
            case "whoami":
                return Map.of("uid", uid(), "task_root", System.getenv("LAMBDA_TASK_ROOT"));
            case "context":
                return Map.of("request_id", context.getAwsRequestId(), "function_arn", context.getInvokedFunctionArn(),
                              "remaining_ms", context.getRemainingTimeInMillis());
            default:
                return Map.of("echo", request.getOp());
        }
    }

    private static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
