// flux-i2i mock: the Prism mock of the spec, served until Ctrl-C, for testing an app against the contract.
import { documentFiles } from "../../generated/spec.js";
import { parseFlags } from "./parse-flags.js";
import { ExtraMissingError, specPath, startPrismMock, type PrismMock } from "../testing/mock.js";

export async function serveMock(args: string[]): Promise<number> {
  let values: { port?: string; queue?: boolean; help?: boolean };
  try {
    values = parseFlags(args, { port: { type: "string" }, queue: { type: "boolean" }, help: { type: "boolean", short: "h" } }) as typeof values;
  } catch (error) {
    console.error(`${(error as Error).message}\nUsage: flux-i2i mock [--port N] [--queue]`);
    return 2;
  }
  if (values.help) {
    console.log(`Usage: flux-i2i mock [--port N] [--queue]

Serves a Prism mock of this package's OpenAPI document on 127.0.0.1 until Ctrl-C: it checks each
request against the spec (a bad body gets 422 with the reasons, no Authorization header gets 401)
and answers with the spec's examples. Point your app's baseUrl (or queueUrl, with --queue) at it.

  --port N   the port; default 4010, 0 for any free one
  --queue    the queue's document (openapi/queue.yaml) instead of the synchronous endpoint's

A request's Prefer header picks the answer: \`Prefer: code=429\` any declared status, and on the
queue \`Prefer: code=202, example=in-queue\` or \`example=in-progress\` a job not done yet (status
answers 200 COMPLETED otherwise), \`example=failed\` a failed one, \`code=404\` on a cancel NOT_FOUND.`);
    return 0;
  }
  const port = values.port === undefined ? 4010 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port: must be a whole number from 0 to 65535, got ${values.port}`);
    return 2;
  }
  const document = values.queue ? documentFiles.queue : documentFiles.sync;
  let mock: PrismMock;
  try {
    mock = await startPrismMock({ spec: specPath(document), port });
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof ExtraMissingError) {
      console.error(message);
      return 2;
    }
    // Prism answers a taken port with its whole usage text: the one line that matters is enough.
    const listen = /listen E\w+[^\n]*/.exec(message)?.[0];
    console.error(listen ? `Prism cannot ${listen}: choose another --port` : message);
    return 1;
  }
  console.error(`Prism mock of openapi/${document} listening; Ctrl-C stops it.`);
  console.log(mock.url);
  await new Promise<void>((done) => {
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await mock.stop();
  return 0;
}
