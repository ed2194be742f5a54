// What a contract run knows of the documents it checks a server against: their tables (every
// operation's answers, bodies and parameters, generated/spec.ts), their validators (by schema title)
// and the endpoint's entry (its input schema, its sync call and submit). Passed in, so that the run
// checks any documents the generator took: this package's, or a second endpoint's
// (test/full/second-endpoint.test.ts).
import * as packageSpec from "../../../generated/spec.js";
import * as packageValidators from "../../../generated/validators.js";
import type { Endpoint } from "../../core/types.js";
import type { ObjectSchema } from "./cases.js";

/** One operation's answers as generated/spec.ts `operationResponses` gives them. */
export interface OperationAnswers {
  readonly document: string;
  readonly method: string;
  readonly path: string;
  readonly secured: boolean;
  readonly responses: Readonly<Record<string, unknown>>;
}

/** One parameter as generated/spec.ts `operationParameters` gives it. */
export interface ParameterEntry {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  readonly schema: unknown;
}

/** generated/spec.ts's tables and generated/validators.ts, of this package or of other documents. */
export interface DocumentTables {
  readonly endpointIds: readonly [string, ...string[]];
  readonly operationResponses: Readonly<Record<string, OperationAnswers>>;
  readonly operationBodies: Readonly<Record<string, { readonly schema: unknown; readonly example: unknown }>>;
  readonly operationParameters: Readonly<Record<string, readonly ParameterEntry[]>>;
  readonly validators: Readonly<Record<string, unknown>>;
}

export interface ContractDocuments extends DocumentTables {
  /** The endpoint's input schema: the bodies of the jobs a run follows. */
  readonly inputSchema: ObjectSchema;
  /** The `operationId`s of the endpoint's sync call and submit: the billable ones. */
  readonly run: string;
  readonly submit: string;
}

/** The tables of this package's documents (openapi/). */
export const packageTables: DocumentTables = { ...packageSpec, validators: packageValidators };

/** A contract run's documents: an endpoint's entry (generated/endpoints.ts) with the tables generated beside it. */
export function contractDocuments(entry: Endpoint & { inputSchema: object }, tables: DocumentTables = packageTables): ContractDocuments {
  return { ...tables, inputSchema: entry.inputSchema as ObjectSchema, run: entry.run.operationId, submit: entry.submit.operationId };
}
