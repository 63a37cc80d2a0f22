package ember.runtime;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import java.util.Map;

/** The Context of one invocation: the request's headers plus the environment's variables. */
final class LambdaContext implements Context {
    private final Invocation invocation;

    LambdaContext(Invocation invocation) {
        this.invocation = invocation;
    }

    @Override
    public String getAwsRequestId() {
        return invocation.requestId();
    }

    @Override
    public String getLogGroupName() {
        return System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
    }

    @Override
    public String getLogStreamName() {
        return System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
    }

    @Override
    public String getFunctionName() {
        return System.getenv("AWS_LAMBDA_FUNCTION_NAME");
    }

    @Override
    public String getFunctionVersion() {
        return System.getenv("AWS_LAMBDA_FUNCTION_VERSION");
    }

    @Override
    public String getInvokedFunctionArn() {
        return invocation.functionArn();
    }

    @Override
    public CognitoIdentity getIdentity() {
        String header = invocation.cognitoIdentity();
        return header == null ? null : Serialization.readInternal(header, Identity.class);
    }

    @Override
    public ClientContext getClientContext() {
        String header = invocation.clientContext();
        return header == null ? null : Serialization.readInternal(header, Mobile.class);
    }

    @Override
    public int getRemainingTimeInMillis() {
        return (int) Math.max(0, invocation.deadlineMs() - System.currentTimeMillis());
    }

    @Override
    public int getMemoryLimitInMB() {
        return Integer.parseInt(System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"));
    }

    @Override
    public LambdaLogger getLogger() {
        return LambdaRuntime.getLogger();
    }

    /** The Cognito identity header's JSON: {"cognitoIdentityId": …, "cognitoIdentityPoolId": …}. */
    record Identity(String cognitoIdentityId, String cognitoIdentityPoolId) implements CognitoIdentity {
        @Override
        public String getIdentityId() {
            return cognitoIdentityId;
        }

        @Override
        public String getIdentityPoolId() {
            return cognitoIdentityPoolId;
        }
    }

    /** The client context header's JSON, as a mobile SDK sends it. */
    record Mobile(App client, Map<String, String> custom, Map<String, String> env) implements ClientContext {
        @Override
        public Client getClient() {
            return client;
        }

        @Override
        public Map<String, String> getCustom() {
            return custom;
        }

        @Override
        public Map<String, String> getEnvironment() {
            return env;
        }
    }

    /** The "client" object inside a client context. */
    record App(String installation_id, String app_title, String app_version_name, String app_version_code,
               String app_package_name) implements Client {
        @Override
        public String getInstallationId() {
            return installation_id;
        }

        @Override
        public String getAppTitle() {
            return app_title;
        }

        @Override
        public String getAppVersionName() {
            return app_version_name;
        }

        @Override
        public String getAppVersionCode() {
            return app_version_code;
        }

        @Override
        public String getAppPackageName() {
            return app_package_name;
        }
    }
}
