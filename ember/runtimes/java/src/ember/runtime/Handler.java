package ember.runtime;

import com.amazonaws.services.lambda.runtime.Context;

/** A loaded handler, whatever its style: the event's bytes in, the response's bytes out. */
@FunctionalInterface
interface Handler {
    byte[] handle(byte[] event, Context context) throws Throwable;
}
