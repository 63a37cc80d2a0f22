package ember.runtime;

import java.io.IOException;
import java.nio.file.Path;

/** Ember's Java runtime: Init loads the handler, then the loop serves one invocation at a time. */
public final class Bootstrap {
    private Bootstrap() {
    }

    public static void main(String[] args) throws IOException {
        RuntimeApi api = new RuntimeApi(System.getenv("AWS_LAMBDA_RUNTIME_API"));
        warnIfAnotherJava(String.valueOf(System.getenv("AWS_EXECUTION_ENV")));
        Handler handler = init(api);
        while (true) {
            serve(api, handler, api.next());
        }
    }

    /** A runtime on another Java than its name says (java21 on a JDK 25, java25 where there is only 17) says so,
     *  as the Node and Python runtimes say when they run on an older interpreter. */
    private static void warnIfAnotherJava(String executionEnv) {
        String runtime = executionEnv.replaceFirst("^AWS_Lambda_", "");
        String wanted = runtime.replaceFirst("^java", "").replaceFirst("\\..*$", "");  // java8.al2 -> 8
        if (wanted.matches("\\d+") && Integer.parseInt(wanted) != Runtime.version().feature()) {
            System.err.println(runtime + " runs on this machine's Java " + Runtime.version());
            System.err.flush();
        }
    }

    private static Handler init(RuntimeApi api) throws IOException {
        try {
            return HandlerLoader.load(System.getenv("_HANDLER"), Path.of(System.getenv("LAMBDA_TASK_ROOT")));
        } catch (Throwable thrown) {
            report(thrown);
            api.failInit(ErrorPayload.of(thrown));
        }
        System.exit(1);
        return null;
    }

    private static void serve(RuntimeApi api, Handler handler, Invocation invocation) throws IOException {
        if (invocation.traceId() != null) {
            System.setProperty("com.amazonaws.xray.traceHeader", invocation.traceId());
        }
        byte[] response;
        try {
            response = handler.handle(invocation.payload(), new LambdaContext(invocation));
        } catch (Throwable thrown) {
            report(thrown);
            // Even after OutOfMemoryError the JVM goes on: the heap is collectable, and exiting after the
            // post would race the next invocation into a dying environment.
            api.fail(invocation.requestId(), ErrorPayload.of(thrown));
            return;
        }
        System.out.flush();
        api.respond(invocation.requestId(), response);
    }

    /** The stack trace goes to the log, as Lambda's Java runtime writes it there too. */
    private static void report(Throwable thrown) {
        System.out.flush();
        ErrorPayload.unwrap(thrown).printStackTrace();
        System.err.flush();
    }
}
