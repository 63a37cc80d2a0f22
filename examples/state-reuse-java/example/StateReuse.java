package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.List;
import java.util.Map;

/**
 * The seed's lesson in Java: what a static initializer sets up is paid once, at Init, and reused while warm.
 *
 * <p>{@code makeClient} stands for a client that is slow to create (the seed's Kafka producer, which first
 * asks a configuration service where the brokers are: ~400 ms). Created when the class is initialized, it
 * shows up as {@code Init Duration} on the cold start; warm calls reuse it and pay only for their own work.
 */
public class StateReuse implements RequestHandler<Map<String, Object>, StateReuse.Answer> {
    private static final Client CLIENT = makeClient();
    private static int calls = 0;

    /** The slow-to-make client, kept in a static field for as long as the environment lives. */
    record Client(List<String> brokers, long createdAt) {
    }

    /** The response, mapped to JSON field by field. */
    public static class Answer {
        public int calls_in_this_environment;
        public double client_created_at;
        public List<String> brokers;
    }

    private static Client makeClient() {
        double seconds = Double.parseDouble(System.getenv().getOrDefault("CONFIG_LOOKUP_SECONDS", "0.4"));
        try {
            Thread.sleep((long) (seconds * 1000));  // the configuration-service round trip
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new Client(List.of("broker-1:9092", "broker-2:9092"), System.currentTimeMillis());
    }

    @Override
    public Answer handleRequest(Map<String, Object> event, Context context) {
        calls += 1;
        Answer answer = new Answer();
        answer.calls_in_this_environment = calls;
        answer.client_created_at = CLIENT.createdAt() / 1000.0;
        answer.brokers = CLIENT.brokers();
        return answer;
    }
}
