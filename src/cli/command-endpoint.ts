// What the command line takes of an endpoint, so that it runs any the generator took: what --help,
// the flags and a plain run need (no validator, no client: generated/endpoint-data.ts), the whole
// entry loaded once a request is made, and what it reads of an output. generated/command.ts gives
// one for the endpoint generated/ was made from; src/bin/flux-i2i.ts runs the command on it.
import type { Endpoint, Seed } from "../core/types.js";
import type { QueueClient } from "../queue/client.js";
import type { DocumentTables } from "./contract/documents.js";
import type { SpecFlag } from "./flags.js";

/** An endpoint as the command line first knows it: generated/endpoint-data.ts's `...Command`. */
export interface CommandInfo {
  /** Its id, then its aliases. */
  readonly ids: readonly [string, ...string[]];
  /** Its sync call's summary, for --help. */
  readonly summary: string;
  /** Its input schema (its title heads the flags in --help). */
  readonly inputSchema: { readonly title?: string; readonly properties: object; readonly required?: readonly string[] };
  /** Its flags, one per property of the input schema (generated/endpoint-data.ts's `...Flags`). */
  readonly flags: readonly SpecFlag[];
  /** Its request examples; the first is sent when the command is given no parameter. */
  readonly examples: Readonly<Record<string, object>>;
}

/** The endpoint a command runs. */
export interface CommandEndpoint {
  readonly info: CommandInfo;
  /** The whole entry (its validators, its calls), loaded when a request is checked or sent. */
  load(): Promise<Endpoint>;
  /** Its documents' tables and validators (generated/spec.ts, validators.ts), for `contract` and the mock; default: this package's. */
  tables?(): Promise<DocumentTables>;
  /**
   * Its queue document, which the command's Prism mock serves; default: this package's
   * openapi/queue.yaml, whose result example carries its image inline (so --out needs no network:
   * with another document, --out is for --live).
   */
  readonly queueDocument?: URL;
}

/** A request as the command makes it: the flags' and a batch line's parameters. */
export type CommandInput = Record<string, unknown>;

/** What the command reads of an output: the images it saves or prints, the seed, and what it tells. */
export interface CommandOutput {
  images: readonly { url: string }[];
  seed: Seed;
  has_nsfw_concepts?: readonly boolean[];
  timings?: Readonly<Record<string, number>>;
}

/** The client the command runs jobs with: the endpoint's queue. */
export type CommandClient = QueueClient<CommandInput, CommandOutput>;
