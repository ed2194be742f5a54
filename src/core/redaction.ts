// The one redaction of this package: every form of the key a server is likely to echo, cut out of
// whatever the client returns, throws or hands a callback, of what the proxy passes back to a
// browser (headers, status text, the body even across chunks) and of what the command writes.
//
// A server echoes the key as it received it, but not always byte for byte: a gateway's error page
// may percent-encode it, a JSON encoder may write `:` as `\u003a`, a debug header may carry the
// whole `Authorization` value in base64, a log line may print it as hex or upper-case. Each form
// below is one of those, made from the key (trimmed, as it is sent) and from its secret half.

/**
 * The shortest text that is redacted: a shorter one would match ordinary text (a test's key `k`
 * would take every "k" out of an answer). fal's keys are far longer: a UUID and a secret.
 */
const minSecretLength = 8;

const redactedMark = "[redacted]";

/** What the redaction of one key needs, made once per key (see {@link redactorFor}). */
interface Redactor {
  /** Every form, each as its characters' spellings (a character, `%3a`, `\u003a`), lower case. */
  readonly forms: readonly (readonly (readonly string[])[])[];
  /** Matches any form, any letter case, any mix of a character and its escapes. */
  readonly anyForm: RegExp;
  /** The same, for text with no `%` and no `\`: the forms as written, a third of the work on a large string. */
  readonly plainForm: RegExp;
  /** The longest text a form can match. */
  readonly longest: number;
}

/** The base texts: the key as it is sent (trimmed) and its secret half (after the first `:`). */
function secretTexts(key: string): string[] {
  const trimmed = key.trim();
  const secretHalf = trimmed.slice(trimmed.indexOf(":") + 1);
  return [...new Set([trimmed, secretHalf])].filter((text) => text.length >= minSecretLength);
}

/**
 * The encodings of `text` a server may echo: as it is, hex of its bytes, and base64 (standard and
 * URL alphabets) at each of the three offsets it can have inside a longer base64 text (base64 of
 * `Key <key>`, of `Authorization: Key <key>`, ...): the characters that depend on its bytes alone.
 */
function encodings(text: string): string[] {
  const bytes = new TextEncoder().encode(text);
  const out = [text, hex(bytes)];
  for (const offset of [0, 1, 2]) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const encoded = base64(padded).slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    out.push(encoded, encoded.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return [...new Set(out)].filter((form) => form.length >= minSecretLength);
}

/** A character's spellings in echoed text: itself, percent-encoded, JSON `\u`-escaped, and backslash-escaped where JSON allows it. */
function spellings(char: string): string[] {
  const code = char.charCodeAt(0).toString(16).padStart(2, "0");
  const out = [char.toLowerCase(), `%${code}`, `\\u00${code}`];
  if (char === '"' || char === "\\" || char === "/") out.push(`\\${char}`);
  return out;
}

const cache = new Map<string, Redactor | undefined>();

/** The redactor of `key`, made once: a client calls this on every answer. A few keys are kept (one per client, mostly). */
function redactorFor(key: string | undefined): Redactor | undefined {
  if (!key) return undefined;
  if (cache.has(key)) return cache.get(key);
  const forms = [...new Set(secretTexts(key).flatMap(encodings))].sort((a, b) => b.length - a.length);
  const redactor = forms.length
    ? {
        forms: forms.map((form) => [...form].map(spellings)),
        anyForm: new RegExp(forms.map((form) => [...form].map((c) => `(?:${spellings(c).map(escapeRegExp).join("|")})`).join("")).join("|"), "gi"),
        plainForm: new RegExp(forms.map(escapeRegExp).join("|"), "gi"),
        longest: Math.max(...forms.map((form) => form.length)) * 6,
      }
    : undefined;
  if (cache.size >= 8) cache.delete(cache.keys().next().value!);
  cache.set(key, redactor);
  return redactor;
}

/** Whether `text` holds any form of `key` (see the file's comment). */
export function containsKey(text: string, key: string | undefined): boolean {
  const redactor = redactorFor(key);
  if (!redactor) return false;
  const pattern = patternFor(text, redactor);
  pattern.lastIndex = 0;
  return pattern.test(text);
}

/** `text` with every form of `key` replaced by `[redacted]`. */
export function redactText(text: string, key: string | undefined): string {
  const redactor = redactorFor(key);
  return redactor ? replaceForms(text, redactor) : text;
}

function replaceForms(text: string, redactor: Redactor): string {
  const pattern = patternFor(text, redactor);
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, redactedMark) : text;
}

/** Without `%` or `\` in the text no escape can match: the forms as written are enough, and faster. */
function patternFor(text: string, redactor: Redactor): RegExp {
  return text.includes("%") || text.includes("\\") ? redactor.anyForm : redactor.plainForm;
}

/**
 * `value` with every form of the key replaced in every string it holds, names of properties
 * included. A value with no trace of the key comes back as it is (no copy on the hot path); one
 * with a trace, as a plain copy. Walked with a stack of its own, not by recursion: an answer
 * nested 100,000 deep (JSON.parse reads it) cannot overflow the call stack and lose a result.
 */
export function redact<T>(value: T, key: string | undefined): T {
  const redactor = redactorFor(key);
  return redactor ? (scrubValue(value, (text) => replaceForms(text, redactor)) as T) : value;
}

/** A container being walked: its entries, and what each became. */
interface Frame {
  source: object;
  entries: [string, unknown][];
  results: unknown[];
}

function scrubValue(root: unknown, clean: (text: string) => string): unknown {
  if (typeof root === "string") return clean(root);
  if (!isPlainData(root)) return root;
  const onPath = new Set<object>([root]);
  const stack: Frame[] = [{ source: root, entries: Object.entries(root), results: [] }];
  for (;;) {
    const frame = stack[stack.length - 1]!;
    if (frame.results.length < frame.entries.length) {
      const item = frame.entries[frame.results.length]![1];
      if (typeof item === "string") frame.results.push(clean(item));
      else if (isPlainData(item) && !onPath.has(item)) {
        onPath.add(item);
        stack.push({ source: item, entries: Object.entries(item), results: [] });
      } else frame.results.push(item);
      continue;
    }
    stack.pop();
    onPath.delete(frame.source);
    const rebuilt = rebuild(frame, clean);
    if (!stack.length) return rebuilt;
    stack[stack.length - 1]!.results.push(rebuilt);
  }
}

/** The container again if nothing in it changed, else a plain copy with the cleaned names and values. */
function rebuild({ source, entries, results }: Frame, clean: (text: string) => string): unknown {
  if (Array.isArray(source)) return results.some((item, i) => item !== entries[i]![1]) ? results : source;
  const names = entries.map(([name]) => clean(name));
  const changed = names.some((name, i) => name !== entries[i]![0]) || results.some((item, i) => item !== entries[i]![1]);
  return changed ? Object.fromEntries(names.map((name, i) => [name, results[i]])) : source;
}

/** Plain data only: a Response (withResponse's) or another class instance is the caller's to read, cleaned where it is made. */
function isPlainData(value: unknown): value is object {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * An error with every form of the key removed from its message, stack and own fields (body,
 * issues, headers it quotes), in place, so that `toString`, JSON, `inspect` and a stack trace are
 * all clean; and so its `cause`, when that is one of this package's errors too (an unusable
 * answer's FluxResponseError, which keeps the body). Errors of this package only: a caller's abort
 * reason is theirs.
 */
export function redactError<E>(error: E, key: string | undefined, depth = 0): E {
  const redactor = redactorFor(key);
  if (!redactor || !(error instanceof Error) || !error.name.startsWith("Flux")) return error;
  if (depth < 4) redactError(error.cause, key, depth + 1);
  const clean = (text: string) => replaceForms(text, redactor);
  const target = error as unknown as Record<string, unknown>;
  for (const name of Object.keys(target)) target[name] = scrubValue(target[name], clean);
  for (const name of ["message", "stack"] as const) {
    const text = error[name];
    if (typeof text === "string") Object.defineProperty(error, name, { value: clean(text), writable: true, configurable: true });
  }
  return error;
}

/** An answer's status and headers without its (already read) body, its status text and each header value redacted: what `withResponse` hands out. */
export function answerCopy(response: Response, key: string | undefined): Response {
  const headers = new Headers();
  response.headers.forEach((value, name) => headers.set(name, redactText(value, key)));
  return new Response(null, { status: response.status, statusText: redactText(response.statusText, key), headers });
}

/**
 * `call` with everything it returns or throws passed through the one redaction: what a public call
 * of the client gives back holds no form of the key a server echoed.
 */
export function redacting<A extends unknown[], R>(call: (...args: A) => Promise<R>, key: string | undefined): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    try {
      return redact(await call(...args), key);
    } catch (error) {
      throw redactError(error, key);
    }
  };
}

/**
 * A byte stream with every form of the key replaced, for an answer passed on as it arrives (the
 * proxy's status event stream). Only a chunk's tail that could begin a form waits for the next
 * chunk, in case the key spans them: the rest, a status event's closing blank line included, goes
 * on at once, or the event would wait for the stream's end.
 */
export function streamRedactor(key: string | undefined): { push(chunk: Uint8Array): Uint8Array; flush(): Uint8Array } {
  const redactor = redactorFor(key);
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  return {
    push(chunk) {
      const text = pending + decoder.decode(chunk, { stream: true });
      if (!redactor) return encoder.encode(text);
      const clean = replaceForms(text, redactor);
      const held = heldTail(clean, redactor);
      pending = clean.slice(clean.length - held);
      return encoder.encode(clean.slice(0, clean.length - held));
    },
    flush() {
      const rest = pending + decoder.decode();
      pending = "";
      return encoder.encode(redactor ? replaceForms(rest, redactor) : rest);
    },
  };
}

/** The length of the longest end of `text` that could be the start of a form (and is not a whole one): 0 mostly. */
function heldTail(text: string, redactor: Redactor): number {
  const from = Math.max(0, text.length - redactor.longest);
  const tail = text.slice(from).toLowerCase();
  for (let start = 0; start < tail.length; start++) {
    if (redactor.forms.some((form) => beginsForm(tail, start, form, 0))) return tail.length - start;
  }
  return 0;
}

/** Whether `text` from `at` to its end is the beginning of `form` from its character `unit` on, each character in any of its spellings. */
function beginsForm(text: string, at: number, form: readonly (readonly string[])[], unit: number): boolean {
  if (at === text.length) return true;
  if (unit === form.length) return false;
  for (const spelling of form[unit]!) {
    const rest = text.length - at;
    if (rest < spelling.length) {
      if (spelling.startsWith(text.slice(at))) return true;
    } else if (text.startsWith(spelling, at) && beginsForm(text, at + spelling.length, form, unit + 1)) return true;
  }
  return false;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
