// The behaviour-test handler for Ember's Node.js runtime in callback style (CommonJS, no promise):
// results and errors go through callback(err, result).
if (process.env.FAIL_INIT) throw new Error("init failed");
let count = 0;
exports.handler = (event, context, callback) => {
  console.log(`handling ${event.op}`);
  switch (event.op) {
    case "count": count += 1; callback(null, { count }); break;
    case "fail": callback(new Error("bad input")); break;
    case "sleep": setTimeout(() => callback(null, "slept"), event.s * 1000); break;
    case "exit": process.exit(3);
    case "whoami": callback(null, { uid: process.getuid(), task_root: process.env.LAMBDA_TASK_ROOT }); break;
    default: callback(null, { echo: event.op });
  }
};
