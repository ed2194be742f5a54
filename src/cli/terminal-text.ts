// Text from a server (an error's detail, a log line, an image URL) on its way to a terminal: a
// hostile answer could otherwise retitle the window, clear the screen, move the cursor over other
// lines or write the clipboard (OSC 52). The command writes every message through these.

/** Any escape sequence that is not a colour (SGR): CSI with other finals, OSC, DCS/SOS/PM/APC strings, two-character ESC sequences. */
const escapeSequence = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g;
/** Control characters other than tab and line feed (C0, DEL, C1), and an ESC that does not start a colour. */
const control = /\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]/g;

/**
 * `text` safe to print: escape sequences dropped, except colours (SGR: they can do no more than
 * colour, and the command's own colours are SGR), other control characters shown as `\uXXXX`.
 */
export function terminalSafe(text: string): string {
  return text
    .replace(escapeSequence, (sequence) => (/^\x1b\[[0-9;]*m$/.test(sequence) ? sequence : ""))
    .replace(control, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * JSON for stdout: `JSON.stringify` already escapes C0 controls (ESC included) but writes DEL and
 * the C1 controls (U+0080-U+009F, which some terminals read as ESC [) as they are; here they are
 * escaped too. The same JSON value, only spelled safely.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
