// --image: types sniffed from bytes, not names; outputs named after the input.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { maxImageBytes, resolveImage, sniffImageType, stemOf, stemOfImage } from "../../src/cli/image-input.js";
import { UsageError } from "../../src/cli/usage-error.js";
import { storageUpload } from "../../generated/spec.js";

const dir = mkdtempSync(join(tmpdir(), "flux-i2i-image-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sniffImageType", () => {
  it.each([
    ["image/jpeg", [0xff, 0xd8, 0xff, 0xe0]],
    ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
    ["image/gif", [...Buffer.from("GIF89a")]],
    ["image/webp", [...Buffer.from("RIFF"), 0, 0, 0, 0, ...Buffer.from("WEBP")]],
    ["image/avif", [0, 0, 0, 0x1c, ...Buffer.from("ftypavif")]],
  ])("%s", (type, bytes) => {
    expect(sniffImageType(Buffer.from(bytes))).toBe(type);
  });

  it("anything else, and a PNG signature cut short, is not an image", () => {
    expect(sniffImageType(Buffer.from("<svg xmlns="))).toBeUndefined();
    expect(sniffImageType(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    expect(sniffImageType(Buffer.alloc(0))).toBeUndefined();
  });
});

describe("resolveImage", () => {
  it("a file by its bytes, whatever its name says; URLs and data URIs as given", async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    writeFileSync(join(dir, "photo.png"), jpeg);
    expect(await resolveImage("photo.png", dir)).toEqual({ imageUrl: `data:image/jpeg;base64,${jpeg.toString("base64")}`, stem: "photo" });
    expect(await resolveImage("https://x.test/dir/my%20cat.webp?x=1", dir)).toEqual({ imageUrl: "https://x.test/dir/my%20cat.webp?x=1", stem: "my_cat" });
    expect((await resolveImage("data:image/png;base64,AAAA", dir)).stem).toBe("image");
  });

  it("to upload: the file itself as a File with its name and sniffed type, up to one upload's bound rather than the inline 10 MiB", async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 4, 5, 6]);
    writeFileSync(join(dir, "holiday.png"), jpeg);
    const { imageUrl, stem } = await resolveImage("holiday.png", dir, "--image", undefined, true);
    expect(imageUrl).toBeInstanceOf(File);
    expect([(imageUrl as File).name, (imageUrl as File).type, stem]).toEqual(["holiday.png", "image/jpeg", "holiday"]);
    expect(Buffer.from(await (imageUrl as File).arrayBuffer()).equals(jpeg)).toBe(true);
    // Over the inline cap: refused inline (saying how to upload it), taken to upload.
    writeFileSync(join(dir, "large.jpg"), Buffer.concat([jpeg, Buffer.alloc(maxImageBytes)]));
    await expect(resolveImage("large.jpg", dir)).rejects.toThrow("leave out --inline to upload it");
    expect((await resolveImage("large.jpg", dir, "--image", undefined, true)).imageUrl).toBeInstanceOf(File);
    expect(storageUpload.maxBytes).toBeGreaterThan(maxImageBytes);
  });

  it("a folder is a usage error naming the flag", async () => {
    await expect(resolveImage(".", dir, "--image")).rejects.toThrow(new UsageError("--image: . is not a file"));
  });

  it.runIf(existsSync("/proc/self/pagemap"))("a file whose size says 0 but never ends is read only past the cap, then refused", async () => {
    await expect(resolveImage("/proc/self/pagemap", dir)).rejects.toThrow(`is more than ${(maxImageBytes / 1024 / 1024).toFixed(1)} MiB, over the`);
  });

  it.runIf(existsSync("/proc/self/pagemap"))("to upload, the same file is an empty one: refused as no image, nothing read past its claimed size", async () => {
    await expect(resolveImage("/proc/self/pagemap", dir, "--image", undefined, true)).rejects.toThrow("(it starts with nothing)");
  });

  it("to upload, the File reads the disk when it is sent, not a copy in memory: a file changed after it was opened fails its read", async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 7, 8, 9]);
    writeFileSync(join(dir, "edited.jpg"), jpeg);
    const { imageUrl } = await resolveImage("edited.jpg", dir, "--image", undefined, true);
    writeFileSync(join(dir, "edited.jpg"), Buffer.concat([jpeg, jpeg]));
    await expect((imageUrl as File).arrayBuffer()).rejects.toThrow();
  });

  it("an abort (Ctrl-C) stops the reading", async () => {
    writeFileSync(join(dir, "big.png"), Buffer.alloc(5 * 1024 * 1024));
    await expect(resolveImage("big.png", dir, "--image", AbortSignal.abort())).rejects.toMatchObject({ name: "AbortError" });
  });

  it("names made from a server's or a caller's text: never hidden or option-like, capped with a hash that keeps them apart", () => {
    expect(stemOf(".bashrc")).toBe("_bashrc");
    expect(stemOf("--force.png")).toBe("_force");
    expect(stemOf("..")).toBe("image");
    const long = stemOf(`${"a".repeat(250)}.png`);
    const other = stemOf(`${"a".repeat(249)}b.png`);
    expect(long.length).toBe(64);
    expect(long).not.toBe(other);
    expect(long).toMatch(/^a{55}~[0-9a-f]{8}$/);
  });

  it("stemOfImage names outputs without reading anything", () => {
    expect(stemOfImage("/a/b/cat.final.png")).toBe("cat.final");
    expect(stemOfImage("file:///a/b/c%C3%A4t.png")).toBe("c_t");
  });
});
