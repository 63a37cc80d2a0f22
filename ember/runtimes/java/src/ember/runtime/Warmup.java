package ember.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The training run behind the class-data archive: goes through what every cold start does (an invocation
 * fetched, a handler loaded, JSON mapped, a response and an error posted) against a canned Runtime API,
 * so the JVM can dump those classes already parsed and verified (-XX:ArchiveClassesAtExit).
 */
public final class Warmup {
    private static final String CLIENT_CONTEXT = "{\"client\": {\"app_title\": \"warm\"}, \"custom\": {}, \"env\": {}}";

    private Warmup() {
    }

    /** A POJO handler's shapes, mapped both ways: a bean in and out, and a Map. */
    public static final class Sample {
        public Map<String, Object> echo(Map<String, Object> event) {
            return event;
        }

        public Reply greet(Request request, Context context) {
            Reply reply = new Reply();
            reply.setItems(request.getWarm());
            reply.setName(context.getFunctionName());
            return reply;
        }
    }

    /** The canned event, read through setters (an unknown property and a null element on the way). */
    public static final class Request {
        private List<Object> warm;

        public List<Object> getWarm() {
            return warm;
        }

        public void setWarm(List<Object> warm) {
            this.warm = warm;
        }
    }

    /** Written through getters, its null name left out. */
    public static final class Reply {
        private List<Object> items;
        private String name;

        public List<Object> getItems() {
            return items;
        }

        public void setItems(List<Object> items) {
            this.items = items;
        }

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }
    }

    public static void main(String[] args) throws Throwable {
        try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            Thread answering = new Thread(() -> answer(server, 3));
            answering.start();
            RuntimeApi api = new RuntimeApi("127.0.0.1:" + server.getLocalPort());
            Invocation invocation = api.next();
            Path task = Files.createTempDirectory("ember-warmup");
            try {
                HandlerLoader.load("ember.runtime.Warmup$Absent", task);
            } catch (Throwable expected) {
                api.fail(invocation.requestId(), ErrorPayload.of(expected));
            }
            LambdaContext context = new LambdaContext(invocation);
            context.getRemainingTimeInMillis();
            Serialization.readInternal(CLIENT_CONTEXT, LambdaContext.Mobile.class);
            HandlerLoader.load(Sample.class.getName() + "::echo", task).handle(invocation.payload(), context);
            byte[] answer = HandlerLoader.load(Sample.class.getName() + "::greet", task)
                    .handle(invocation.payload(), context);
            api.respond(invocation.requestId(), answer);
            answering.join();
            Files.delete(task);
        }
    }

    /** One canned HTTP answer per connection, each closing it: enough for HttpURLConnection's whole path. */
    private static void answer(ServerSocket server, int requests) {
        for (int i = 0; i < requests; i++) {
            try (Socket socket = server.accept()) {
                readRequest(socket.getInputStream());
                String body = "{\"warm\": [1, 2.5, \"x\", null], \"unknown\": true}";
                String response = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: warmup\r\n"
                        + "Lambda-Runtime-Deadline-Ms: " + (System.currentTimeMillis() + 1000) + "\r\n"
                        + "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:w\r\n"
                        + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
                OutputStream out = socket.getOutputStream();
                out.write(response.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static void readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            head.write(in.read());
        }
        for (String line : head.toString(StandardCharsets.US_ASCII).split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                in.readNBytes(Integer.parseInt(line.substring(15).trim()));
            }
        }
    }
}
