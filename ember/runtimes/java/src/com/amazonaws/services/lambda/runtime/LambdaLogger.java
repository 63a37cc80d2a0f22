package com.amazonaws.services.lambda.runtime;

import com.amazonaws.services.lambda.runtime.logging.LogLevel;

/** Writes to the function's log stream. */
public interface LambdaLogger {
    void log(String message);

    void log(byte[] message);

    /** The level is kept in the text only as the caller wrote it: the log is plain text, not JSON. */
    default void log(String message, LogLevel level) {
        log(message);
    }

    default void log(byte[] message, LogLevel level) {
        log(message);
    }
}
