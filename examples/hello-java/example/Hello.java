package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/** The smallest Java function: greets whoever the event names. Compiles unchanged against AWS's own jar. */
public class Hello implements RequestHandler<Map<String, Object>, Map<String, String>> {
    @Override
    public Map<String, String> handleRequest(Map<String, Object> event, Context context) {
        Object name = event == null ? null : event.get("name");
        return Map.of("message", "Hello, " + (name == null ? "world" : name) + " from Java!");
    }
}
