#!/usr/bin/env node
// flux-i2i: the command line (src/cli/command.ts) on the endpoint generated/ was made from (FLUX.1
// [dev] image-to-image). What --help and the flags need is plain data; the entry with its
// validators loads only once a request is made (generated/command.ts).
import { commandEndpoint } from "../../generated/command.js";
import { runCommand } from "../cli/command.js";

const code = await runCommand(process.argv.slice(2), commandEndpoint);
// Once everything is written, the process ends: neither a batch interrupted (jobs still being
// followed) nor a finished status stream left to close (its connection kept for reuse, up to
// streamDrainMs) may keep it up.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write("", resolve))));
process.exit(code);
