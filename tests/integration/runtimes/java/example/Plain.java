package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Handlers that implement no interface: Lambda finds the method by name and maps its input and output. */
public class Plain {
    /** A POJO result, mapped by its public fields (it has no getters). */
    public static class Greeting {
        public String message;
        public List<Integer> numbers;
    }

    public static String shout(String input) {
        LambdaRuntime.getLogger().log("shouting " + input, LogLevel.INFO);
        return input.toUpperCase();
    }

    public Greeting greet(Map<String, Object> event, Context context) {
        Greeting greeting = new Greeting();
        greeting.message = "hello " + event.get("name") + " from " + context.getFunctionName();
        @SuppressWarnings("unchecked")  // Jackson reads JSON's small integers as Integer, as on AWS
        List<Integer> numbers = (List<Integer>) event.get("numbers");
        greeting.numbers = numbers;
        return greeting;
    }

    public Map<String, Object> context(Object ignored, Context context) {
        Map<String, Object> seen = new LinkedHashMap<>();
        seen.put("requestId", context.getAwsRequestId());
        seen.put("arn", context.getInvokedFunctionArn());
        seen.put("function", context.getFunctionName());
        seen.put("version", context.getFunctionVersion());
        seen.put("memory", context.getMemoryLimitInMB());
        seen.put("remaining", context.getRemainingTimeInMillis());
        seen.put("logGroup", context.getLogGroupName());
        seen.put("logStream", context.getLogStreamName());
        seen.put("custom", context.getClientContext() == null ? null : context.getClientContext().getCustom());
        seen.put("app", context.getClientContext() == null ? null : context.getClientContext().getClient().getAppTitle());
        return seen;
    }

    public void nothing(Map<String, Object> event) {
    }

    public String silent(Map<String, Object> event) {
        throw new IllegalStateException();
    }

    public String chained(Map<String, Object> event) {
        try {
            Integer.parseInt("not a number");
        } catch (NumberFormatException cause) {
            throw new IllegalStateException("wrapped", cause);
        }
        return "unreachable";
    }
}
