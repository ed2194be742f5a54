// An image given as bytes: uploaded to fal storage the way fal's clients do it (openapi/storage.yaml)
// before the submit or the sync call, which then carries the file's URL. Nothing is sent for a bad
// input, and a failed upload submits nothing.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { storageUpload } from "../generated/spec.js";
import { imageToImageExamples } from "../generated/endpoints.js";
import { createFluxClient, FluxUploadError, FluxValidationError } from "../src/index.js";
import type { FetchLike } from "../src/core/types.js";
import { startStorageFake } from "./support/storage-fake.js";
import { firstExample } from "./support/spec.js";

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
const fileUrl = "https://v3b.fal.media/files/b/uploaded.png";
const key = "key-id:key-secret-0123456789";
const { prompt } = imageToImageExamples.minimal;

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: Uint8Array;
}

/** fal played by a fake fetch: storage's initiate and the signed URL's PUT, the queue's submit, fal.run's call. `answer` may change any answer. */
function fal(answer: (seen: Seen) => Response | undefined = () => undefined) {
  const seen: Seen[] = [];
  const fetch: FetchLike = async (input, init = {}) => {
    const raw = init.body;
    // A Blob is PUT as it is (fetch streams it); a typed array or text as bytes.
    const body =
      raw === undefined || raw === null
        ? new Uint8Array()
        : typeof raw === "string"
          ? new TextEncoder().encode(raw)
          : raw instanceof Blob || raw instanceof ReadableStream
            ? new Uint8Array(await new Response(raw).arrayBuffer())
            : new Uint8Array(raw as ArrayBuffer);
    const request = { method: init.method ?? "GET", url: new URL(String(input)), headers: new Headers(init.headers), body };
    seen.push(request);
    const json = (value: unknown) => new Response(JSON.stringify(value), { headers: { "Content-Type": "application/json" } });
    const given = answer(request);
    if (given) return given;
    if (request.url.pathname === storageUpload.initiatePath) return json({ upload_url: "https://cdn.fal.test/put/1?signature=s", file_url: fileUrl });
    if (request.method === "PUT") return new Response(null, { status: 200 });
    if (request.url.host.startsWith("queue.")) return json({ request_id: "job-1" });
    return json(firstExample(200));
  };
  const client = createFluxClient({ credentials: key, baseUrl: "https://fal.test", queueUrl: "https://queue.fal.test", storageUrl: "https://rest.fal.test", fetch, retry: { baseDelayMs: 1 } });
  return { client, seen };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("an image_url given as bytes", () => {
  it("a File: initiated with the key and its name and sniffed type, PUT to the signed URL with no key, then submitted as the file's URL", async () => {
    const { client, seen } = fal();
    const job = await client.queue.submit({ image_url: new File([png], "cat.png", { type: "application/octet-stream" }), prompt });
    expect(job.request_id).toBe("job-1");
    const [initiate, put, submit] = seen;
    expect(initiate!.url.href).toBe(`https://rest.fal.test${storageUpload.initiatePath}?storage_type=${storageUpload.storageType}`);
    expect(initiate!.headers.get("authorization")).toBe(`Key ${key}`);
    expect(JSON.parse(text(initiate!.body))).toEqual({ content_type: "image/png", file_name: "cat.png" }); // the bytes' type, not the File's
    expect(put!.method).toBe("PUT");
    expect(put!.url.href).toBe("https://cdn.fal.test/put/1?signature=s");
    expect(put!.headers.get("authorization")).toBeNull();
    expect(put!.headers.get("content-type")).toBe("image/png");
    expect([...put!.body]).toEqual([...png]);
    expect(JSON.parse(text(submit!.body)).image_url).toBe(fileUrl);
    expect(seen).toHaveLength(3);
  });

  it.each([
    ["an ArrayBuffer", () => png.slice().buffer],
    ["a Uint8Array", () => png.slice()],
    ["a Node Buffer", () => Buffer.from(png)],
    ["a web ReadableStream", () => new Blob([png]).stream()],
    ["a Node Readable", () => Readable.from([Buffer.from(png.subarray(0, 5)), Buffer.from(png.subarray(5))])],
  ])("%s, on the sync call too: uploaded as image.png, the call given the file's URL", async (_, bytes) => {
    const { client, seen } = fal();
    const output = await client.imageToImage({ image_url: bytes(), prompt });
    expect(output.images.length).toBeGreaterThan(0);
    expect(JSON.parse(text(seen[0]!.body))).toEqual({ content_type: "image/png", file_name: "image.png" });
    expect([...seen[1]!.body]).toEqual([...png]);
    expect(JSON.parse(text(seen[2]!.body)).image_url).toBe(fileUrl);
  });

  it("the rest of the input wrong, or an option: refused before the upload, nothing sent", async () => {
    const { client, seen } = fal();
    await expect(client.queue.submit({ image_url: new Blob([png]), prompt, num_images: 9 })).rejects.toThrow(FluxValidationError);
    await expect(client.queue.submit({ image_url: new Blob([png]), prompt }, { priority: "urgent" as never })).rejects.toThrow(/priority/);
    expect(seen).toEqual([]);
  });

  it("bytes that are no image fal takes, or too many of them: refused with the rule, nothing sent", async () => {
    const { client, seen } = fal();
    const notImage = (await client.imageToImage({ image_url: new File(["hello"], "notes.txt"), prompt }).catch((e: unknown) => e)) as FluxValidationError;
    expect(notImage).toBeInstanceOf(FluxValidationError);
    expect(notImage.issues[0]).toMatchObject({ field: "image_url", rule: "type" });
    expect(notImage.message).toContain("notes.txt starts with 68656c6c6f");
    const huge = (await client.imageToImage({ image_url: new Blob([new Uint8Array(storageUpload.maxBytes + 1)]), prompt }).catch((e: unknown) => e)) as FluxValidationError;
    expect(huge.issues[0]).toMatchObject({ field: "image_url", rule: "maxBytes" });
    expect(seen).toEqual([]);
  });

  it("a failed upload is a FluxUploadError naming the file, and nothing is submitted", async () => {
    const refused = fal((seen) => (seen.url.pathname === storageUpload.initiatePath ? new Response('{"detail":"No user found"}', { status: 401 }) : undefined));
    const error = (await refused.client.queue.submit({ image_url: new File([png], "cat.png"), prompt }).catch((e: unknown) => e)) as FluxUploadError;
    expect(error).toBeInstanceOf(FluxUploadError);
    expect(error.file).toBe("cat.png");
    expect(error.message).toContain("nothing was submitted");
    expect(refused.seen.map((s) => s.method)).toEqual(["POST"]); // the initiate, refused; no PUT, no submit

    const putRefused = fal((seen) => (seen.method === "PUT" ? new Response("denied", { status: 403 }) : undefined));
    await expect(putRefused.client.queue.submit({ image_url: new File([png], "cat.png"), prompt })).rejects.toThrow(FluxUploadError);
    expect(putRefused.seen.some((s) => s.url.host.startsWith("queue."))).toBe(false);
  });

  it("a busy storage (503) is asked again: an upload stores nothing twice and bills nothing; one submit follows", async () => {
    let initiates = 0;
    const { client, seen } = fal((seen) => (seen.url.pathname === storageUpload.initiatePath && ++initiates === 1 ? new Response('{"detail":"busy"}', { status: 503 }) : undefined));
    await client.queue.submit({ image_url: png.slice(), prompt });
    expect(initiates).toBe(2);
    expect(seen.filter((s) => s.url.host.startsWith("queue."))).toHaveLength(1);
  });

  it("a signed URL that is not https gets nothing: the photo is not sent in clear", async () => {
    const { client, seen } = fal((seen) =>
      seen.url.pathname === storageUpload.initiatePath ? new Response(JSON.stringify({ upload_url: "http://cdn.example.com/put/1", file_url: fileUrl })) : undefined,
    );
    await expect(client.queue.submit({ image_url: png.slice(), prompt })).rejects.toThrow(/not https/);
    expect(seen.map((s) => s.method)).toEqual(["POST"]);
  });
});

describe("client.storage.upload", () => {
  /** A PNG of `size` bytes: its signature, then bytes that differ along the way (a chunk sent twice or out of order shows). */
  const bigPng = (size: number) => {
    const bytes = new Uint8Array(size).map((_, i) => (i * 7919) % 251);
    bytes.set(png);
    return bytes;
  };

  it("gives the file's URL and tells the bytes sent as fetch reads them, with the PUT's Content-Length set", async () => {
    const { client, seen } = fal();
    const image = bigPng(1024 * 1024 + 5);
    const told: [number, number][] = [];
    expect(await client.storage.upload(image, { onProgress: (sent, total) => told.push([sent, total]) })).toBe(fileUrl);
    expect(seen.map((s) => s.method)).toEqual(["POST", "PUT"]);
    expect(seen[1]!.headers.get("content-length")).toBe(String(image.byteLength));
    expect(Buffer.from(seen[1]!.body).equals(Buffer.from(image))).toBe(true);
    expect(told.length).toBeGreaterThan(4); // 0, each 256 KiB chunk, the end
    expect(told[0]).toEqual([0, image.byteLength]);
    expect(told.at(-1)).toEqual([image.byteLength, image.byteLength]);
    expect(told.every(([sent], i) => i === 0 || sent >= told[i - 1]![0])).toBe(true);
  });

  it("a PUT answered 503 is sent again whole: the counted body is made anew for each attempt", async () => {
    let puts = 0;
    const { client, seen } = fal((request) => (request.method === "PUT" && ++puts === 1 ? new Response(null, { status: 503 }) : undefined));
    const image = bigPng(600 * 1024);
    await client.storage.upload(new Blob([image]), { onProgress: () => undefined });
    const sent = seen.filter((s) => s.method === "PUT");
    expect(sent).toHaveLength(2);
    for (const put of sent) expect(Buffer.from(put.body).equals(Buffer.from(image))).toBe(true);
  });

  it("over real HTTP: the signed URL gets the whole file with its length, not chunked, and the progress reaches the total", async () => {
    const storage = await startStorageFake(fileUrl);
    try {
      const client = createFluxClient({ credentials: key, storageUrl: storage.url, retry: false });
      const image = bigPng(3 * 1024 * 1024);
      let last = 0;
      expect(await client.storage.upload(new File([image], "big.png"), { onProgress: (sent) => (last = sent) })).toBe(fileUrl);
      const put = storage.requests.find((r) => r.method === "PUT")!;
      expect(put.headers["content-length"]).toBe(String(image.byteLength));
      expect(put.headers["transfer-encoding"]).toBeUndefined();
      expect(put.bytes.equals(Buffer.from(image))).toBe(true);
      expect(last).toBe(image.byteLength);
    } finally {
      await storage.close();
    }
  });

  it("refuses what is not an image before sending anything, and redacts the key from a failure", async () => {
    const { client, seen } = fal((request) => (request.method === "POST" ? new Response(`{"detail":"bad key ${key}"}`, { status: 401 }) : undefined));
    await expect(client.storage.upload(new Uint8Array([1, 2, 3]))).rejects.toThrow(FluxValidationError);
    expect(seen).toHaveLength(0);
    const error = (await client.storage.upload(png.slice()).catch((e: unknown) => e)) as FluxUploadError;
    expect(error).toBeInstanceOf(FluxUploadError);
    expect(JSON.stringify(error.toJSON()) + error.message + String(error.stack)).not.toContain("key-secret");
  });
});
