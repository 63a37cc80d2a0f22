package ember.runtime;

import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.amazonaws.services.lambda.runtime.serialization.factories.GsonFactory;
import com.amazonaws.services.lambda.runtime.serialization.factories.JacksonFactory;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Type;
import java.util.HashMap;
import java.util.Map;

/**
 * JSON through AWS's own aws-lambda-java-serialization, each type's serializer chosen as Lambda's Java runtime
 * chooses it: an aws-lambda-java-events class through the library's mixins and date modules, a call from an
 * Android client through its Gson, anything else through its Jackson mapper (bean getters and setters,
 * case-sensitive names, unknown properties ignored, nulls left out, lenient parsing).
 */
final class Serialization {
    private final ClassLoader loader;
    private final Map<Type, PojoSerializer<Object>> jackson = new HashMap<>();
    private final Map<Type, PojoSerializer<Object>> android = new HashMap<>();

    /** The loader is the function's: the events library and its Joda-Time come from the function's jars. */
    Serialization(ClassLoader loader) {
        this.loader = loader;
    }

    /** Made once per type and platform and kept, as the runtime keeps them; the first is made during Init. */
    PojoSerializer<Object> of(Type type, boolean fromAndroid) {
        return (fromAndroid ? android : jackson).computeIfAbsent(type, t -> create(t, fromAndroid));
    }

    @SuppressWarnings("unchecked")
    private PojoSerializer<Object> create(Type type, boolean fromAndroid) {
        if (type instanceof Class<?> event && LambdaEventSerializers.isLambdaSupportedEvent(event.getName())) {
            return (PojoSerializer<Object>) LambdaEventSerializers.serializerFor(event, loader);
        }
        return fromAndroid ? GsonFactory.getInstance().getSerializer(type)
                : JacksonFactory.getInstance().getSerializer(type);
    }

    /** The runtime's own objects (the context's headers, error payloads) go through Gson, as AWS's runtime's do. */
    static <T> T readInternal(String json, Class<T> type) {
        return GsonFactory.getInstance().getSerializer(type).fromJson(json);
    }

    static byte[] writeInternal(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GsonFactory.getInstance().getSerializer(Object.class).toJson(value, out);
        return out.toByteArray();
    }
}
