package ember.runtime;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.ToNumberPolicy;
import com.google.gson.reflect.TypeToken;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;

/** Events in and results out of POJO and Map handlers, with Gson's field-name mapping. */
final class Json {
    private static final Gson GSON = builder().create();
    private static final Gson WITH_NULLS = builder().serializeNulls().create();

    private Json() {
    }

    private static GsonBuilder builder() {
        // Integers in a Map<String, Object> stay Longs rather than becoming Doubles.
        return new GsonBuilder().disableHtmlEscaping().setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE);
    }

    /** Builds the type's mapping ahead, during Init (which runs without the CPU quota), not in the first call. */
    static void prepare(Type type) {
        GSON.getAdapter(TypeToken.get(type));
    }

    static Object read(byte[] event, Type type) {
        return GSON.fromJson(new String(event, StandardCharsets.UTF_8), type);
    }

    static byte[] write(Object result) {
        return GSON.toJson(result).getBytes(StandardCharsets.UTF_8);
    }

    static LambdaContext.Identity readIdentity(String header) {
        return GSON.fromJson(header, LambdaContext.Identity.class);
    }

    static LambdaContext.Mobile readClientContext(String header) {
        return GSON.fromJson(header, LambdaContext.Mobile.class);
    }

    static String writeNulls(Object value) {
        return WITH_NULLS.toJson(value);
    }
}
