package ember.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;

/** The Runtime API client: one keep-alive connection, the long-polled next and the three posts. */
final class RuntimeApi {
    private final String base;

    RuntimeApi(String host) {
        this.base = "http://" + host + "/2018-06-01/runtime";
    }

    Invocation next() throws IOException {
        HttpURLConnection connection = open("/invocation/next");
        byte[] payload = drain(connection);
        return new Invocation(connection.getHeaderField("Lambda-Runtime-Aws-Request-Id"),
                Long.parseLong(connection.getHeaderField("Lambda-Runtime-Deadline-Ms")),
                connection.getHeaderField("Lambda-Runtime-Invoked-Function-Arn"),
                connection.getHeaderField("Lambda-Runtime-Trace-Id"),
                connection.getHeaderField("Lambda-Runtime-Client-Context"),
                connection.getHeaderField("Lambda-Runtime-Cognito-Identity"), payload);
    }

    void respond(String requestId, byte[] body) throws IOException {
        post("/invocation/" + requestId + "/response", body, null);
    }

    void fail(String requestId, ErrorPayload error) throws IOException {
        post("/invocation/" + requestId + "/error", error.json(), error.type());
    }

    void failInit(ErrorPayload error) throws IOException {
        post("/init/error", error.json(), error.type());
    }

    private void post(String path, byte[] body, String errorType) throws IOException {
        HttpURLConnection connection = open(path);
        connection.setRequestMethod("POST");
        connection.setDoOutput(true);
        connection.setFixedLengthStreamingMode(body.length);
        if (errorType != null) {
            connection.setRequestProperty("Lambda-Runtime-Function-Error-Type", errorType);
        }
        try (OutputStream out = connection.getOutputStream()) {
            out.write(body);
        }
        drain(connection);
    }

    private HttpURLConnection open(String path) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) new URL(base + path).openConnection();
        connection.setReadTimeout(0);
        return connection;
    }

    /** Reads the whole body (of an error status too) so the connection goes back to the keep-alive pool. */
    private static byte[] drain(HttpURLConnection connection) throws IOException {
        int status = connection.getResponseCode();
        InputStream body = status < 400 ? connection.getInputStream() : connection.getErrorStream();
        byte[] bytes = body == null ? new byte[0] : body.readAllBytes();
        if (body != null) {
            body.close();
        }
        if (status >= 400) {
            throw new IOException("the Runtime API answered " + status + ": " + new String(bytes));
        }
        return bytes;
    }
}
