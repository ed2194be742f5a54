// What JSON.parse reads from a text but does not give back: the exact digits of a number (a seed
// above 2^53 is rounded), and whether an object names a key twice (JSON.parse keeps the last
// value without a word). Read from the text by a scanner that knows strings and nesting, so that
// a key inside a string, or a `seed` of a nested object, is never taken for the one asked for.

/** Where the scanner is: a key of an object, or -1 for an item of an array. */
type Step = string | -1;

interface Visitor {
  /** Each key as it is met, with the path of its object and the object's number (in order of appearance); a true return stops the scan. */
  key?(path: readonly Step[], key: string, object: number): boolean | void;
  /** Each number, as written, with its path. */
  number?(path: readonly Step[], digits: string): void;
}

interface Container {
  id: number;
  array: boolean;
  /** In an object: whether the next string is a key. */
  expectKey: boolean;
}

/**
 * Walks a text JSON.parse has accepted (it checks nothing itself), telling `visitor` of keys and
 * numbers with their paths. Strings are skipped with `indexOf`, so a result carrying data URIs of
 * tens of megabytes is crossed quickly.
 */
function scanJson(text: string, visitor: Visitor): void {
  const path: Step[] = [];
  const containers: Container[] = [];
  /** The key whose value comes next, in the innermost object. */
  let key: Step = -1;
  let opened = 0;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    const inner = containers[containers.length - 1];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (inner && !inner.array && inner.expectKey) {
        key = JSON.parse(text.slice(i, end)) as string;
        inner.expectKey = false;
        if (visitor.key?.(path, key, inner.id)) return;
      }
      i = end;
    } else if (c === "{" || c === "[") {
      if (inner) path.push(inner.array ? -1 : key);
      containers.push({ id: opened++, array: c === "[", expectKey: c === "{" });
      i++;
    } else if (c === "}" || c === "]") {
      containers.pop();
      if (containers.length) key = path.pop()!;
      i++;
    } else if (c === ",") {
      if (inner && !inner.array) inner.expectKey = true;
      i++;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const digits = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400))![0];
      visitor.number?.([...path, inner && !inner.array ? key : -1], digits);
      i += digits.length;
    } else i++;
  }
}

/** The index just past the string that starts (with its quote) at `start`. */
function stringEnd(text: string, start: number): number {
  for (let quote = text.indexOf('"', start + 1); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === "\\") backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
  }
  return text.length;
}

function samePath(a: readonly Step[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((step, i) => step === b[i]);
}

/**
 * The number at `path` (keys from the top object down) as written in `text`, or undefined. When an
 * object repeats the key, the last one, as JSON.parse keeps the last.
 */
export function numberTextAt(text: string, path: readonly string[]): string | undefined {
  let found: string | undefined;
  scanJson(text, { number: (at, digits) => void (samePath(at, path) && (found = digits)) });
  return found;
}

/** The first key that one object of `text` names twice, as a path (`seed`, `loras.[].path` for one in an item of a list), or undefined. */
export function duplicateKey(text: string): string | undefined {
  const keysOf = new Map<number, Set<string>>();
  let duplicate: string | undefined;
  scanJson(text, {
    key(path, key, object) {
      const keys = keysOf.get(object) ?? new Set<string>();
      keysOf.set(object, keys);
      if (keys.has(key)) {
        duplicate = [...path.map((step) => (step === -1 ? "[]" : step)), key].join(".");
        return true;
      }
      keys.add(key);
    },
  });
  return duplicate;
}
