// An image's type from its first bytes (not its name, which may lie): the types fal documents for
// `image_url`. Bytes only, no Node Buffer, so that the browser's upload path can use it too.

/** The types sniffed, with their usual extension (for a file name when the caller gave none). */
const signatures: { type: string; extension: string; test: (b: Uint8Array) => boolean }[] = [
  { type: "image/jpeg", extension: "jpg", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: "image/png", extension: "png", test: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((byte, i) => b[i] === byte) },
  { type: "image/gif", extension: "gif", test: (b) => /^GIF8[79]a$/.test(latin1(b, 0, 6)) },
  { type: "image/webp", extension: "webp", test: (b) => latin1(b, 0, 4) === "RIFF" && latin1(b, 8, 12) === "WEBP" },
  { type: "image/avif", extension: "avif", test: (b) => latin1(b, 4, 8) === "ftyp" && /^avi[fs]$/.test(latin1(b, 8, 12)) },
];

const latin1 = (bytes: Uint8Array, start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));

/** The MIME type and extension of an image fal accepts, from its first bytes; undefined for anything else. */
export function sniffImage(bytes: Uint8Array): { type: string; extension: string } | undefined {
  const found = signatures.find((signature) => signature.test(bytes));
  return found && { type: found.type, extension: found.extension };
}

/** The names of the types, for a message: "jpeg, png, gif, webp or avif". */
export const imageTypeNames = signatures.map((s) => s.type.slice("image/".length)).join(", ").replace(/, ([^,]+)$/, " or $1");
