// Server text on its way to a terminal: what a hostile answer could make a terminal do is dropped
// or shown escaped, colours and ordinary text stay.
import { describe, expect, it } from "vitest";
import { createProgress } from "../../src/cli/progress.js";
import { terminalSafe, terminalSafeJson } from "../../src/cli/terminal-text.js";

const attacks = {
  title: "\x1b]0;pwned\x07",
  clipboard: "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x1b\\",
  clear: "\x1b[2J\x1b[H",
  cursorUp: "\x1b[1A\x1b[2K",
  c1Csi: "\x9b2J",
  dcs: "\x1bP1$qm\x1b\\",
  backspaces: "\b\b\b\bok",
  carriageReturn: "\rline rewritten",
};

describe("terminalSafe", () => {
  it.each(Object.entries(attacks))("%s is dropped or shown escaped, never written raw", (_, attack) => {
    const safe = terminalSafe(`before ${attack} after`);
    expect(safe).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(safe).toMatch(/^before .* after$/s);
  });

  it("keeps colours, text, tabs and line feeds", () => {
    const text = "\x1b[31mred\x1b[0m\tand\nnext: café ✓";
    expect(terminalSafe(text)).toBe(text);
  });

  it("an OSC 52 clipboard write leaves nothing of its payload", () => {
    expect(terminalSafe(`a${attacks.clipboard}b`)).toBe("ab");
  });

  it("JSON keeps its value, with DEL and C1 spelled as escapes", () => {
    const json = JSON.stringify({ detail: `x${attacks.c1Csi}\x1b]0;t\x07` });
    const safe = terminalSafeJson(json);
    expect(safe).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(JSON.parse(safe)).toEqual(JSON.parse(json));
  });
});

describe("the command's messages", () => {
  it("stderr through Progress never carries a server's escape sequences", () => {
    let written = "";
    const stream = { isTTY: false, write: (chunk: string) => ((written += chunk), true) } as unknown as NodeJS.WriteStream;
    const progress = createProgress(stream, {});
    progress.log(`fal answered 422: prompt: ${attacks.title}${attacks.clear}rejected`);
    expect(written).toBe("fal answered 422: prompt: rejected\n");
  });
});
