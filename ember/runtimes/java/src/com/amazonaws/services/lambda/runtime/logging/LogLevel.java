package com.amazonaws.services.lambda.runtime.logging;

/** The levels a handler may tag a log line with (newer handlers pass one to LambdaLogger.log). */
public enum LogLevel {
    UNDEFINED, TRACE, DEBUG, INFO, WARN, ERROR, FATAL
}
