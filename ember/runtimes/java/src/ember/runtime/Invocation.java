package ember.runtime;

/** One event from /invocation/next, with the headers a Context is built from. */
record Invocation(String requestId, long deadlineMs, String functionArn, String traceId,
                  String clientContext, String cognitoIdentity, byte[] payload) {
}
