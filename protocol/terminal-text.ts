/**
 * Agent text on its way to a terminal, a log excerpt or a page. Agents print colours and cursor
 * moves, and a hostile one could print more (clear the screen, retitle the window, write the
 * clipboard with OSC 52). One pattern for every escape the engine strips: CSI sequences (ESC [ or
 * the 8-bit CSI), OSC sequences ended by BEL or ESC \ (or, unended, the end of their line: they
 * must not swallow the lines after them), and the other two-byte escapes.
 */
const TERMINAL_ESCAPES =
  /\x1b\[[0-9;?]*[ -/]*[@-~]|\x9b[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]/g;

/** `text` without terminal escape sequences. */
export const stripTerminalEscapes = (text: string): string => text.replace(TERMINAL_ESCAPES, '');

/**
 * `text` for a terminal: escape sequences removed, and every other control character but newline
 * and tab shown as `\xNN`, so nothing in it moves the cursor, rewrites a line or rings the bell.
 */
export function terminalSafe(text: string): string {
  return stripTerminalEscapes(text).replace(
    /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
