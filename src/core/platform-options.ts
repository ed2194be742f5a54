// fal's platform headers and the submit's query parameters: the typed options of a call turned into
// what goes on the wire, checked against the spec (generated/) before anything is sent.
import { validateObjectLifecyclePreference, type Validator } from "../../generated/validators.js";
import { FluxValidationError, type FluxIssue } from "./errors.js";
import type { PlatformOptions, QueueCallOptions, SubmitOptions } from "./types.js";
import { issuesOf } from "./validation.js";

/** Each option and the parameter it sets, named as in the spec. */
const parameterOf = {
  startTimeoutSeconds: "X-Fal-Request-Timeout",
  runnerHint: "X-Fal-Runner-Hint",
  mediaExpirationSeconds: "X-Fal-Object-Lifecycle-Preference",
  storePayloads: "X-Fal-Store-IO",
  webhookUrl: "fal_webhook",
  priority: "X-Fal-Queue-Priority",
  disableFalRetries: "x-fal-no-retry",
  maxQueueLength: "fal_max_queue_length",
} as const satisfies Record<keyof PlatformOptions | Exclude<keyof SubmitOptions, keyof QueueCallOptions>, string>;

type OptionName = keyof typeof parameterOf;
const optionOf = Object.fromEntries(Object.entries(parameterOf).map(([option, name]) => [name, option])) as Record<string, OptionName>;
const optionOfHeader = new Map(Object.entries(parameterOf).map(([option, name]) => [name.toLowerCase(), option]));

/** The option that sets the platform header `name` (any case), if it is one. */
export function optionOfPlatformHeader(name: string): string | undefined {
  return optionOfHeader.get(name.toLowerCase());
}

/** The call's query string and headers. */
export interface WireParameters {
  query: Record<string, string>;
  headers: Record<string, string>;
}

/**
 * An operation's parameters as the spec gives them: their validator and where each goes. Passed in
 * by the caller (the sync call's, the submit's), so that a bundle of the sync call alone carries
 * none of the queue's.
 */
export interface ParameterSpec {
  validate: Validator<unknown>;
  /** Where each parameter goes, by its name in the spec: `header` or `query`. */
  locations: Readonly<Record<string, string>>;
}

/**
 * The options of a sync call or a submit as query parameters and headers. Throws a
 * {@link FluxValidationError} naming each bad option and its rule, with `inputIssues` (the body's)
 * joined, so that one error tells everything wrong with the call.
 */
export function platformParameters(
  options: SubmitOptions,
  { validate, locations }: ParameterSpec,
  /** Whether a text holds any form of the client's key (refused in a webhook URL). */
  carriesKey: (text: string) => boolean,
  inputIssues: FluxIssue[] = [],
): WireParameters {
  const issues = [...inputIssues];
  const sent: Record<string, unknown> = {};
  for (const [option, name] of Object.entries(parameterOf) as [OptionName, string][]) {
    const value = options[option];
    if (value === undefined || !(name in locations)) continue;
    const converted = toWire(option, value, issues);
    if (converted !== undefined) sent[name] = converted;
  }
  issues.push(...issuesOf(validate, sent).map((issue) => ({ ...issue, field: optionOf[issue.field] ?? issue.field })));
  if ("fal_webhook" in locations) issues.push(...webhookIssues(options.webhookUrl, carriesKey));
  if (issues.length) throw new FluxValidationError(issues);

  const out: WireParameters = { query: {}, headers: {} };
  for (const [name, value] of Object.entries(sent)) (locations[name] === "query" ? out.query : out.headers)[name] = String(value);
  return out;
}

/** An option's value as its parameter takes it; undefined when the option asks for fal's default. */
function toWire(option: OptionName, value: unknown, issues: FluxIssue[]): unknown {
  const isBoolean = option === "storePayloads" || option === "disableFalRetries";
  if (isBoolean && typeof value !== "boolean") {
    issues.push({ field: option, rule: "type", message: `must be boolean, got ${JSON.stringify(value)}`, params: { type: "boolean" } });
    return undefined;
  }
  // Only the values that change fal's default go out: `X-Fal-Store-IO: 0`, `x-fal-no-retry: 1`.
  if (option === "storePayloads") return value === false ? "0" : undefined;
  if (option === "disableFalRetries") return value === true ? "1" : undefined;
  if (option === "mediaExpirationSeconds") {
    const preference = { expiration_duration_seconds: value };
    const found = issuesOf(validateObjectLifecyclePreference, preference);
    issues.push(...found.map((issue) => ({ ...issue, field: option })));
    return found.length ? undefined : JSON.stringify(preference);
  }
  return value;
}

function webhookIssues(webhook: unknown, carriesKey: (text: string) => boolean): FluxIssue[] {
  if (typeof webhook !== "string") return [];
  let url: URL | undefined;
  try {
    url = new URL(webhook);
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol)) {
    return [{ field: "webhookUrl", rule: "format", message: "must be an absolute http(s) URL", params: { format: "uri" } }];
  }
  // Spelled any way a URL can spell it (percent-encoded, twice even, or as its secret half alone).
  if ([webhook, safeDecode(webhook)].some(carriesKey)) {
    return [{ field: "webhookUrl", rule: "secret", message: "contains the API key; fal would store it in the job", params: {} }];
  }
  return [];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
