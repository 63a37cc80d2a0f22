// A resolve hook: a bare `import` that finds nothing beside the importing file is looked for in NODE_PATH's
// node_modules folders (the layers' /opt/nodejs/nodeNN/node_modules and /opt/nodejs/node_modules), as AWS's
// Node.js 18+ runtime does for ES modules; Node.js itself reads NODE_PATH for `require` only.
import path from "node:path";
import { pathToFileURL } from "node:url";

const FOLDERS = (process.env.NODE_PATH || "").split(":").filter((folder) => path.basename(folder) === "node_modules");
const BARE = /^(?![./]|[a-zA-Z][a-zA-Z0-9+.-]*:)/;

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !BARE.test(specifier)) throw error;
    for (const folder of FOLDERS) {
      // resolved as if imported from a file beside the folder, so its package.json "exports" still apply
      const parentURL = pathToFileURL(path.join(path.dirname(folder), "index.mjs")).href;
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // not in this folder: the next one
      }
    }
    throw error;
  }
}
