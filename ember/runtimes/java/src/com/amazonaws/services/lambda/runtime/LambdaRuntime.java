package com.amazonaws.services.lambda.runtime;

import java.nio.charset.StandardCharsets;

/** The logger for code that has no Context at hand (static initializers, helpers). */
public final class LambdaRuntime {
    private static final LambdaLogger LOGGER = new LambdaLogger() {
        @Override
        public void log(String message) {
            log(message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void log(byte[] message) {
            synchronized (System.out) {
                System.out.write(message, 0, message.length);
                if (message.length == 0 || message[message.length - 1] != '\n') {
                    System.out.write('\n');
                }
                System.out.flush();
            }
        }
    };

    private LambdaRuntime() {
    }

    public static LambdaLogger getLogger() {
        return LOGGER;
    }
}
