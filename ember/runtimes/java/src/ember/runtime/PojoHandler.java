package ember.runtime;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.Context;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A handler that takes an event object (and perhaps the Context), or only the Context, and returns an object: the
 * event is read and the result written as Lambda's Java runtime does it, with its messages when either fails.
 */
final class PojoHandler implements Handler {
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private final Object target;
    private final Method method;
    private final Type input;  // null: the method takes no event
    private final Type output;  // null: void, answered with JSON null
    private final Serialization serialization;

    PojoHandler(Object target, Method method, ClassLoader loader) {
        this.target = target;
        this.method = method;
        Type[] parameters = method.getGenericParameterTypes();
        this.input = parameters.length > 0 && parameters[0] != Context.class ? parameters[0] : null;
        Type returned = method.getGenericReturnType();
        this.output = returned == void.class || returned == Void.class ? null : returned;
        this.serialization = new Serialization(loader);
        // Made during Init, as the runtime makes them (Init also runs without the CPU quota).
        if (input != null) {
            serialization.of(input, false);
        }
        if (output != null) {
            serialization.of(output, false);
        }
    }

    @Override
    public byte[] handle(byte[] event, Context context) throws Throwable {
        boolean android = fromAndroid(context);
        Object[] args = new Object[method.getParameterCount()];
        int next = 0;
        if (input != null) {
            args[next++] = read(event, android);
        }
        if (next < args.length) {
            args[next] = context;
        }
        return write(HandlerLoader.call(target, method, args), android);
    }

    private Object read(byte[] event, boolean android) {
        try {
            return serialization.of(input, android).fromJson(new ByteArrayInputStream(event));
        } catch (RuntimeException | Error failed) {
            throw new RuntimeException("An error occurred during JSON parsing", failed);
        }
    }

    private byte[] write(Object result, boolean android) {
        if (output == null) {
            return NULL;
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            serialization.of(output, android).toJson(result, out);
            return out.toByteArray();
        } catch (RuntimeException | Error failed) {
            throw new RuntimeException("An error occurred during JSON serialization of response", failed);
        }
    }

    /** The runtime maps an Android app's calls with Gson: its client context says env.platform = Android. */
    private static boolean fromAndroid(Context context) {
        ClientContext client = context.getClientContext();
        Map<String, String> env = client == null ? null : client.getEnvironment();
        return env != null && "Android".equalsIgnoreCase(env.get("platform"));
    }
}
