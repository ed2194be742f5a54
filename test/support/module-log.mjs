// Preloaded (NODE_OPTIONS=--import) into a command run by a test that checks what the command loads:
// every module's URL is appended to the file named by FLUX_MODULE_LOG, by a load hook (Node's
// module.register, which runs the hooks on a thread of their own).
import { register } from "node:module";

const hooks = `
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(process.env.FLUX_MODULE_LOG)}, url + "\\n");
  return next(url, context);
}`;
if (process.env.FLUX_MODULE_LOG) register(`data:text/javascript,${encodeURIComponent(hooks)}`);
