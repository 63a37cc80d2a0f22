// The behaviour-test handler for Ember's Node.js runtime as an ES module (.mjs, export, async).
if (process.env.FAIL_INIT) throw new Error("init failed");
let count = 0;
export const handler = async (event) => {
  console.log(`handling ${event.op}`);
  switch (event.op) {
    case "count": count += 1; return { count };
    case "fail": throw new Error("bad input");
    case "sleep": await new Promise((r) => setTimeout(r, event.s * 1000)); return "slept";
    case "exit": process.exit(3);
    case "whoami": return { uid: process.getuid(), task_root: process.env.LAMBDA_TASK_ROOT };
    default: return { echo: event.op };
  }
};
