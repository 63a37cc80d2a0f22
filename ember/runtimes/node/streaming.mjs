// Response streaming, as AWS's Node.js runtime offers it: `awslambda.streamifyResponse(handler)` marks a
// handler `(event, responseStream, context)`, whose responseStream is the Runtime API's chunked response
// (`Lambda-Runtime-Function-Response-Mode: streaming`); a failure after it started travels in trailers.
import http from "node:http";

const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";

export function installGlobals() {
  globalThis.awslambda = {
    streamifyResponse(handler) {
      handler[STREAMING] = "response";
      return handler;
    },
    HttpResponseStream: {
      // A function URL's status and headers ride ahead of the body: JSON, then 8 NUL bytes.
      from(stream, prelude) {
        stream.setContentType(HTTP_INTEGRATION);
        stream.write(JSON.stringify(prelude));
        stream.write(new Uint8Array(8));
        return stream;
      },
    },
  };
}

export function isStreaming(fn) {
  return fn[STREAMING] === "response";
}

// Runs a streaming handler with the response as its stream; resolves once the Runtime API has it all.
export function streamInvocation(target, fn, event, ctx, errorPayload) {
  const stream = http.request({ ...target, method: "POST", headers: {
    "Lambda-Runtime-Function-Response-Mode": "streaming", "Transfer-Encoding": "chunked",
    "Content-Type": "application/octet-stream",
    "Trailer": "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body" } });
  stream.setContentType = (type) => stream.setHeader("Content-Type", type);
  const answered = new Promise((resolve, reject) => {
    stream.on("response", (response) => response.resume().on("end", resolve));
    stream.on("error", reject);
  });
  const handled = Promise.resolve().then(() => fn(event, stream, ctx));
  return handled.then(
    () => { if (!stream.writableEnded) stream.end(); return answered; },
    (error) => {
      const payload = errorPayload(error);
      console.error(`Invoke Error \t${JSON.stringify(payload)}`);
      stream.addTrailers({ "Lambda-Runtime-Function-Error-Type": payload.errorType,
                           "Lambda-Runtime-Function-Error-Body": Buffer.from(JSON.stringify(payload)).toString("base64") });
      if (!stream.writableEnded) stream.end();
      return answered;
    });
}
