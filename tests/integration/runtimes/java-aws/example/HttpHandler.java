package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import java.util.Map;

/** An API Gateway HTTP API handler typed with aws-lambda-java-events, in and out. */
public class HttpHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        String name = event.getQueryStringParameters() == null ? null : event.getQueryStringParameters().get("name");
        String body = "{\"path\": \"" + event.getRawPath() + "\", \"method\": \""
                + event.getRequestContext().getHttp().getMethod() + "\", \"name\": \"" + name + "\"}";
        return APIGatewayV2HTTPResponse.builder().withStatusCode(200)
                .withHeaders(Map.of("content-type", "application/json")).withBody(body).build();
    }
}
