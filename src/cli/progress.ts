// Messages for people on stderr. On a terminal a status line is redrawn in place (queue position,
// elapsed time); piped, there is no status line, only the messages. NO_COLOR turns colour off.
// Every message passes terminalSafe: it may quote a server's text.
import { terminalSafe } from "./terminal-text.js";

export interface Progress {
  /** Replaces the status line (shown on a terminal only); an empty text clears it. */
  status(text: string): void;
  /** A message of its own line, kept above the status line. */
  log(text: string): void;
  /** Text in a colour, when colour is on. */
  paint(text: string, colour: "red" | "green" | "yellow" | "dim"): string;
  /** Clears the status line and stops redrawing it. */
  stop(): void;
}

const codes = { red: 31, green: 32, yellow: 33, dim: 2 } as const;

export function createProgress(stream: NodeJS.WriteStream = process.stderr, env = process.env): Progress {
  const live = Boolean(stream.isTTY) && env.TERM !== "dumb";
  const colour = live && !env.NO_COLOR;
  let line: string | undefined;
  const started = performance.now();
  const draw = () => {
    if (!line) return;
    const elapsed = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    // One row, or the next redraw would not overwrite it: the status is cut to fit beside the time.
    const room = Math.max(10, (stream.columns || 80) - elapsed.length - 2);
    stream.write(`\r\x1b[2K${line.slice(0, room)} ${paint(elapsed, "dim")}`);
  };
  const timer = live ? setInterval(draw, 200).unref() : undefined;
  const paint = (text: string, name: keyof typeof codes) => (colour ? `\x1b[${codes[name]}m${text}\x1b[0m` : text);

  return {
    status(text) {
      if (!live) return;
      if (line && !text) stream.write("\r\x1b[2K"); // an empty status clears the line
      line = terminalSafe(text).replace(/\s+/g, " ");
      draw();
    },
    log(text) {
      if (live && line) stream.write("\r\x1b[2K");
      stream.write(`${terminalSafe(text)}\n`);
      draw();
    },
    paint,
    stop() {
      clearInterval(timer);
      if (live && line) stream.write("\r\x1b[2K");
      line = undefined;
    },
  };
}
