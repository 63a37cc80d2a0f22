package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/** Invokes another function with the AWS SDK for Java v2, built as on AWS: LambdaClient.create() finds the
 *  region, the function's credentials and AWS_ENDPOINT_URL_LAMBDA by itself. */
public class Caller implements RequestStreamHandler {
    private static final Pattern TARGET = Pattern.compile("\"target\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern PAYLOAD = Pattern.compile("\"payload\"\\s*:\\s*(\\{.*?\\})");
    private static final LambdaClient LAMBDA = LambdaClient.create();

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        String event = new String(input.readAllBytes(), "UTF-8");
        Matcher target = TARGET.matcher(event);
        Matcher payload = PAYLOAD.matcher(event);
        if (!target.find() || !payload.find()) {
            throw new IllegalArgumentException("expected {\"target\": …, \"payload\": {…}}");
        }
        InvokeResponse answer = LAMBDA.invoke(request -> request.functionName(target.group(1))
                .payload(SdkBytes.fromUtf8String(payload.group(1))));
        output.write(answer.payload().asByteArray());
    }
}
