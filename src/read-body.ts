// An answer's body read with a bound: a server that sends without end cannot fill memory, and a body
// cut short still gives what arrived (a submit's answer may name its job in its first half).

/** A body that could not be read whole: cut short (`cause` is the transport's error) or over its cap. */
export class BodyReadError extends Error {
  constructor(
    message: string,
    /** The text that arrived before it stopped. */
    readonly partial: string,
    /** Over the cap (a server's fault), not cut short. */
    readonly tooLarge: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The body as text, at most `maxBytes` (a larger one is refused as soon as it says so or passes the cap). */
export async function readBody(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyReadError(`the answer is ${declared} bytes, more than the ${maxBytes} bytes this call reads`, "", true);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text + decoder.decode();
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        reader.cancel().catch(() => undefined);
        throw new BodyReadError(`the answer is more than the ${maxBytes} bytes this call reads`, text, true);
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (error instanceof BodyReadError) throw error;
    throw new BodyReadError("the answer was cut short", text, false, { cause: error });
  }
}
