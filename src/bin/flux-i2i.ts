#!/usr/bin/env node
// flux-i2i: FLUX.1 [dev] image-to-image from a terminal: the command line (src/cli/command.ts) on
// this package's endpoint. What --help and the flags need is plain data (generated/endpoint-data.ts);
// the entry with its validators loads only once a request is made.
import { imageToImageCommand } from "../../generated/endpoint-data.js";
import { runCommand } from "../cli/command.js";

const code = await runCommand(process.argv.slice(2), {
  info: imageToImageCommand,
  load: async () => (await import("../../generated/endpoints.js")).imageToImage,
});
// Once everything is written, the process ends: neither a batch interrupted (jobs still being
// followed) nor a finished status stream left to close (its connection kept for reuse, up to
// streamDrainMs) may keep it up.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write("", resolve))));
process.exit(code);
