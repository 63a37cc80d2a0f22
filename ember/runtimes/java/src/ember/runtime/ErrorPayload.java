package ember.runtime;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A Throwable in the shape Lambda's Java runtime reports: errorMessage, errorType, stackTrace, cause. */
record ErrorPayload(String type, byte[] json) {

    static ErrorPayload of(Throwable thrown) {
        Throwable error = unwrap(thrown);
        return new ErrorPayload(error.getClass().getName(),
                Serialization.writeInternal(describe(error)));
    }

    /** The user's exception, not the reflection or class-initialization wrapper around it. */
    static Throwable unwrap(Throwable thrown) {
        Throwable error = thrown;
        while ((error instanceof InvocationTargetException || error instanceof ExceptionInInitializerError)
                && error.getCause() != null) {
            error = error.getCause();
        }
        return error;
    }

    /** Why a java21 function's classes fail: the runtime's name promises a JDK this machine may not have. */
    private static String javaVersionNote() {
        int feature = Runtime.version().feature();
        String runtime = System.getenv().getOrDefault("AWS_EXECUTION_ENV", "").replace("AWS_Lambda_", "");
        return "Ember runs " + (runtime.isEmpty() ? "Java" : runtime) + " on this machine's JDK " + feature
                + ", which reads class files up to version " + (44 + feature) + ".0: compile with --release "
                + feature;
    }

    private static boolean isRuntimeFrame(StackTraceElement frame) {
        String type = frame.getClassName();
        return type.startsWith("ember.runtime.") || type.startsWith("jdk.internal.reflect.")
                || type.equals("java.lang.reflect.Method");
    }

    private static Map<String, Object> describe(Throwable error) {
        Map<String, Object> shape = new LinkedHashMap<>();
        // A Throwable without a message is named by its class, as Lambda's Java runtime names it.
        String message = error.getMessage() == null ? error.getClass().getName() : error.getMessage();
        shape.put("errorMessage", error instanceof UnsupportedClassVersionError
                ? message + ". " + javaVersionNote() : message);
        shape.put("errorType", error.getClass().getName());
        List<String> frames = new ArrayList<>();
        for (StackTraceElement frame : error.getStackTrace()) {
            if (isRuntimeFrame(frame)) {
                break;  // below the handler: reflection and this bootstrap, which the caller didn't write
            }
            frames.add(frame.toString());
        }
        shape.put("stackTrace", frames);
        if (error.getCause() != null && error.getCause() != error) {
            shape.put("cause", describe(error.getCause()));
        }
        return shape;
    }
}
