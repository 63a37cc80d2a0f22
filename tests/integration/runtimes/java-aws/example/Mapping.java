package example;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** POJOs and aws-lambda-java-events types as Lambda's Java runtime maps them, in and out: the same class runs on
 *  Ember's Java runtime and under AWS's runtime interface client, and the tests compare the bytes each answers. */
public class Mapping {
    /** A bean whose private fields have other names than its properties: only getters and setters reach them. */
    public static class Person {
        private String fullName;
        private int years;
        private String nickname;
        private List<String> tags;

        public String getName() { return fullName; }
        public void setName(String name) { this.fullName = name; }
        public int getAge() { return years; }
        public void setAge(int age) { this.years = age; }
        public String getNickname() { return nickname; }
        public void setNickname(String nickname) { this.nickname = nickname; }
        public List<String> getTags() { return tags; }
        public void setTags(List<String> tags) { this.tags = tags; }
        public boolean isAdult() { return years >= 18; }
    }

    public Person person(Person person) {
        return person;
    }

    /** A Map result holding a null, and the event's own class name. */
    public Map<String, Object> described(Person person) {
        Map<String, Object> described = new LinkedHashMap<>();
        described.put("name", person.getName());
        described.put("nickname", person.getNickname());
        described.put("type", person.getClass().getSimpleName());
        return described;
    }

    public ScheduledEvent scheduled(ScheduledEvent event) {
        return event;
    }

    /** What the events library's Joda-Time DateTime and mixin-named fields read as. */
    public Map<String, Object> schedule(ScheduledEvent event) {
        Map<String, Object> seen = new LinkedHashMap<>();
        seen.put("detailType", event.getDetailType());
        seen.put("time", event.getTime() == null ? null : event.getTime().toString());
        seen.put("timeClass", event.getTime() == null ? null : event.getTime().getClass().getName());
        seen.put("detail", event.getDetail());
        return seen;
    }

    public SQSEvent sqs(SQSEvent event) {
        return event;
    }

    public APIGatewayV2HTTPEvent http(APIGatewayV2HTTPEvent event) {
        return event;
    }
}
