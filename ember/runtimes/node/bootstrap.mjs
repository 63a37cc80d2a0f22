// Ember's Node.js runtime: a Lambda Runtime API client, as AWS's Node runtime behaves.
// Loads `file.export` from LAMBDA_TASK_ROOT (CommonJS .js/.cjs or ESM .mjs / "type": "module"),
// then forever: next -> handler (async, promise or callback style) -> response or error; a handler
// wrapped in awslambda.streamifyResponse streams its response instead (streaming.mjs).
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { pathToFileURL } from "node:url";
import { installGlobals, isStreaming, streamInvocation } from "./streaming.mjs";

const PREFIX = "/2018-06-01/runtime";
const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let currentRequestId = "";

function call(method, route, body = "", headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: HOST, port: PORT, method, path: PREFIX + route, agent,
      headers: { ...headers, "Content-Length": Buffer.byteLength(body) } }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers,
                                         body: Buffer.concat(chunks).toString() }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

function errorPayload(error, fallbackType = "Error") {
  const err = error instanceof Error ? error : new Error(typeof error === "string" ? error : JSON.stringify(error));
  return { errorType: err.errorType || err.name || fallbackType, errorMessage: err.message,
           trace: (err.stack || "").split("\n") };
}

function patchConsole() {
  for (const [method, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"],
                                 ["debug", "DEBUG"], ["trace", "TRACE"]]) {
    console[method] = (...args) => process.stdout.write(
      `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args).replace(/\n/g, "\r")}\n`);
  }
}

function findModule(root, modulePath) {
  for (const extension of [".js", ".mjs", ".cjs"]) {
    const file = path.resolve(root, modulePath + extension);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

// A dependency missing from the package, or code that doesn't parse, is named as AWS's runtime names it;
// anything else thrown while the module initializes keeps its own type.
function asLoadError(error) {
  if (error && (error.code === "MODULE_NOT_FOUND" || error.code === "ERR_MODULE_NOT_FOUND")) {
    error.errorType = "Runtime.ImportModuleError";
  } else if (error instanceof SyntaxError) {
    error.errorType = "Runtime.UserCodeSyntaxError";
  } else {
    throw error;
  }
  throw Object.assign(new Error(`${error.name}: ${error.message}`, { cause: error }),
                      { errorType: error.errorType, stack: error.stack });
}

async function loadHandler() {
  const handler = process.env._HANDLER || "";
  const dot = handler.lastIndexOf(".");
  if (dot < 1) throw Object.assign(new Error(`Bad handler ${handler}`), { errorType: "Runtime.MalformedHandlerName" });
  const [modulePath, exportName] = [handler.slice(0, dot), handler.slice(dot + 1)];
  const file = findModule(process.env.LAMBDA_TASK_ROOT, modulePath);
  if (file === null) {
    throw Object.assign(new Error(`Error: Cannot find module '${modulePath}'`), { errorType: "Runtime.ImportModuleError" });
  }
  const module = await import(pathToFileURL(file).href).catch(asLoadError);
  const fn = module[exportName] ?? module.default?.[exportName];
  if (typeof fn !== "function") {
    throw Object.assign(new Error(`${handler} is undefined or not exported`), { errorType: "Runtime.HandlerNotFound" });
  }
  return fn;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const clientContext = headers["lambda-runtime-client-context"];
  const identity = headers["lambda-runtime-cognito-identity"];
  return {
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: clientContext ? JSON.parse(clientContext) : undefined,
    identity: identity ? JSON.parse(identity) : undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// A callback's result waits, as on AWS, until the event loop is empty (its timers and sockets done)
// unless the handler set context.callbackWaitsForEmptyEventLoop = false.
function run(fn, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (error, value) => {
      const settle = () => (error ? reject(error) : resolve(value));
      if (ctx.callbackWaitsForEmptyEventLoop) process.once("beforeExit", settle);
      else settle();
    };
    try {
      const result = fn(event, ctx, callback);
      if (result && typeof result.then === "function") result.then(resolve, reject);
      else if (fn.length < 3) resolve(result);
    } catch (error) {
      reject(error);
    }
  });
}

async function main() {
  patchConsole();
  installGlobals();
  const major = Number(process.versions.node.split(".")[0]);
  const wanted = Number((process.env.AWS_EXECUTION_ENV || "").replace(/\D+/g, " ").trim().split(" ")[0]);
  if (wanted > major) console.warn(`nodejs${wanted}.x runs on this machine's Node.js ${process.versions.node}`);
  let fn;
  try {
    fn = await loadHandler();
  } catch (error) {
    const payload = errorPayload(error, "Runtime.ImportModuleError");
    console.error(`${payload.errorType}: ${payload.errorMessage}`);
    await call("POST", "/init/error", JSON.stringify(payload), { "Lambda-Runtime-Function-Error-Type": payload.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    if (next.status !== 200) {  // the environment is going away, or the Runtime API refused the move
      console.error(`Runtime API next answered ${next.status}: ${next.body}`);
      process.exit(1);
    }
    const ctx = context(next.headers);
    currentRequestId = ctx.awsRequestId;
    process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
    const event = next.body ? JSON.parse(next.body) : {};
    if (isStreaming(fn)) {
      const target = { host: HOST, port: PORT, agent, path: `${PREFIX}/invocation/${ctx.awsRequestId}/response` };
      await streamInvocation(target, fn, event, ctx, errorPayload);
      continue;
    }
    let posted;
    try {
      const result = await run(fn, event, ctx);
      posted = await call("POST", `/invocation/${ctx.awsRequestId}/response`, JSON.stringify(result ?? null));
    } catch (error) {
      const payload = errorPayload(error);
      console.error(`Invoke Error \t${JSON.stringify(payload)}`);
      posted = await call("POST", `/invocation/${ctx.awsRequestId}/error`, JSON.stringify(payload),
                          { "Lambda-Runtime-Function-Error-Type": payload.errorType });
    }
    if (posted.status !== 202) console.error(`Runtime API refused the result: ${posted.status} ${posted.body}`);
  }
}

main();
