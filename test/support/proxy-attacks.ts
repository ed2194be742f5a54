// The attacks of issue 18 on flux-i2i/proxy, hosted as a web app hosts it (test/support/
// proxy-host.mjs, a process of its own) in front of a hostile fal (./hostile-upstream.ts). Each
// is sent from outside, as someone who wants to take the site down or spend its fal credit would,
// and says whether the proxy held. test/full/proxy-survival.test.ts runs them against this build;
// bench/proxy-attacks.mjs against this build and a baseline, side by side.
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { holdsEchoedKey, redirectTarget, type HostileUpstream } from "./hostile-upstream.js";

export interface ProxyHost {
  url: string;
  /** Whether the process is up and its server still answers. */
  alive(): Promise<boolean>;
  /** The most memory the process has held, in MiB (Linux's VmHWM). */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/** Starts test/support/proxy-host.mjs hosting `dist`'s proxy with `adapter` (see that file). */
export async function startProxyHost(options: { dist: string; adapter: string; upstream: string; key: string; hostScript?: string }): Promise<ProxyHost> {
  const script = options.hostScript ?? fileURLToPath(new URL("./proxy-host.mjs", import.meta.url));
  const child: ChildProcess = fork(script, [JSON.stringify(options)], { stdio: ["ignore", "ignore", "ignore", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`the proxy's host exited (${code}) before listening`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async alive() {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      const answer = await fetch(`${url}/api/fal/queue/fal-ai/flux-1/requests/job-1/status`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      await answer?.body?.cancel();
      return answer !== undefined;
    },
    peakRssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}

export interface AttackContext {
  host: ProxyHost;
  upstream: HostileUpstream;
  key: string;
}

export interface Attack {
  /** The finding of issue 18 it reproduces. */
  finding: string;
  /** undefined when the proxy held; else what went wrong, in words. */
  run(context: AttackContext): Promise<string | undefined>;
}

const submitPath = "/api/fal/queue/fal-ai/flux-1/dev/image-to-image";
const body = JSON.stringify({ image_url: "https://fal.media/files/koala/Chls9L2ZnvuipUTEwlnJC.png", prompt: "a wizard cat" });

/** Sends raw bytes to `url`'s port (and hangs up at once if asked); gives what came back ("" when the connection closed with nothing). */
export function rawExchange(url: string, bytes: string, hangUp = false): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    let answer = "";
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(bytes);
      if (hangUp) socket.destroy();
    });
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("data", (chunk) => {
      answer += chunk;
      if (answer.includes("\r\n\r\n")) socket.end();
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", () => undefined);
  });
}

/** Runs `send`, then says which requests reached fal meanwhile. */
async function reaching<T>(context: AttackContext, send: () => Promise<T>): Promise<{ outcome: T; reached: HostileUpstream["log"] }> {
  const before = context.upstream.log.length;
  const outcome = await send();
  return { outcome, reached: context.upstream.log.slice(before) };
}

const submitsIn = (reached: HostileUpstream["log"]) => reached.filter((entry) => entry.method === "POST").length;

/** A POST of the submit as a page would send it, with `headers` over JSON's type. */
const postSubmit = (context: AttackContext, headers: Record<string, string>, path = submitPath) =>
  fetch(`${context.host.url}${path}`, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } }).then(
    async (answer) => ({ status: answer.status, text: await answer.text().catch(() => "") }),
    (error: Error) => ({ status: 0, text: error.message }),
  );

/** An authorize verdict the app means as a no, and whether the proxy took it for one. */
const refusedVerdict = (finding: string, verdict: string): Attack => ({
  finding,
  async run(context) {
    const { outcome, reached } = await reaching(context, () => postSubmit(context, { "x-test-authorize": verdict }));
    return submitsIn(reached) ? `forwarded to fal with the key (answered ${outcome.status})` : undefined;
  },
});

export const attacks: Attack[] = [
  {
    finding: "a request with Host: a:b:c",
    async run({ host }) {
      const answer = await rawExchange(host.url, "GET /api/fal/queue/fal-ai/flux-1/requests/job-1/status HTTP/1.1\r\nHost: a:b:c\r\n\r\n");
      return /^HTTP\/1\.1 400/.test(answer) ? undefined : `answered ${JSON.stringify(answer.slice(0, 12)) || "nothing"}`;
    },
  },
  {
    finding: "a body declared, sent in part, then a hang-up",
    async run(context) {
      const { reached } = await reaching(context, () =>
        rawExchange(context.host.url, `POST ${submitPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"prompt":`, true),
      );
      return submitsIn(reached) ? "a cut body was forwarded" : undefined;
    },
  },
  {
    finding: "authorize throws (a session store that is down)",
    async run(context) {
      const { outcome, reached } = await reaching(context, () => postSubmit(context, { "x-test-authorize": "throw" }));
      if (submitsIn(reached)) return "forwarded to fal";
      if (outcome.status !== 500) return `answered ${outcome.status}, not 500`;
      return /session store|\n\s+at /.test(outcome.text) ? "the answer tells the error or its stack" : undefined;
    },
  },
  {
    finding: "fal cuts the status stream midway",
    async run({ host }) {
      const text = await fetch(`${host.url}/api/fal/queue/fal-ai/flux-1/requests/cut-stream/status/stream`).then(
        (answer) => answer.text(),
        () => undefined,
      ).catch(() => undefined);
      return text?.includes('"IN_PROGRESS"') ? undefined : "the browser's stream broke instead of ending";
    },
  },
  {
    finding: "a cross-site text/plain POST (no preflight) from another origin",
    async run(context) {
      const { outcome, reached } = await reaching(context, () => postSubmit(context, { Origin: "https://evil.example.com", "Content-Type": "text/plain" }));
      return submitsIn(reached) ? `forwarded to fal with the key (answered ${outcome.status})` : undefined;
    },
  },
  refusedVerdict("authorize refuses with another realm's Response (node-fetch's)", "foreign"),
  refusedVerdict("authorize answers 'no'", "no"),
  refusedVerdict("authorize answers { allowed: false }", "object"),
  {
    finding: "a status path whose x-fal-target-url names the submit (authorize judges the path)",
    async run(context) {
      const target = `${context.upstream.url}/fal-ai/flux-1/dev/image-to-image`;
      const { reached } = await reaching(context, () =>
        postSubmit(context, { "x-test-authorize": "by-path", "x-fal-target-url": target }, "/api/fal/queue/fal-ai/flux-1/requests/job-1/status"),
      );
      return submitsIn(reached) ? "forwarded as the submit" : undefined;
    },
  },
  {
    finding: "fal echoes the key in its status text and headers",
    async run({ host, key }) {
      const answer = await fetch(`${host.url}/api/fal/queue/fal-ai/flux-1/requests/echo/status`);
      await answer.body?.cancel();
      const lines = [answer.statusText];
      answer.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
      return holdsEchoedKey(lines.join("\n"), key) ? "a form of the key reached the browser" : undefined;
    },
  },
  {
    finding: "fal sends CORS headers (*, credentials) and a cookie of its own",
    async run({ host }) {
      const answer = await fetch(`${host.url}/api/fal/queue/fal-ai/flux-1/requests/echo/status`);
      await answer.body?.cancel();
      const passed = ["access-control-allow-origin", "access-control-allow-credentials", "set-cookie"].filter((name) => answer.headers.get(name) !== null);
      return passed.length ? `passed to the browser: ${passed.join(", ")}` : undefined;
    },
  },
  {
    finding: "fal echoes the key in the body as base64, hex, upper-case and \\u-escaped",
    async run({ host, key }) {
      const text = await (await fetch(`${host.url}/api/fal/queue/fal-ai/flux-1/requests/echo/status`)).text();
      return holdsEchoedKey(text, key) ? "a form of the key reached the browser" : undefined;
    },
  },
  {
    finding: "a 300 KB gzip answer that inflates to 300 MiB",
    async run({ host }) {
      const answer = await fetch(`${host.url}/api/fal/queue/fal-ai/flux-1/requests/gzip-bomb`).catch(() => undefined);
      const reader = answer?.body?.getReader();
      for (let read = await reader?.read().catch(() => undefined); read && !read.done; read = await reader!.read().catch(() => undefined));
      const peak = host.peakRssMiB();
      return peak > 400 ? `the host's memory peaked at ${Math.round(peak)} MiB` : undefined;
    },
  },
  {
    finding: "a same-host 308 to another model's route",
    async run(context) {
      const { reached } = await reaching(context, () =>
        fetch(`${context.host.url}/api/fal/queue/fal-ai/flux-1/requests/redirect/status`, { redirect: "manual" }).then((answer) => answer.body?.cancel()),
      );
      return reached.some((entry) => entry.path === redirectTarget) ? "followed to it with the key" : undefined;
    },
  },
];
