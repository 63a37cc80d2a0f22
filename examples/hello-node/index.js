// hello-node: the smallest Node.js function (CommonJS, async): greets whoever the event names.
exports.handler = async (event) => {
  const name = event && typeof event === "object" ? event.name : undefined;
  return { message: `Hello, ${name || "world"} from Node.js!` };
};
