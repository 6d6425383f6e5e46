import { describe, expect, test } from 'vitest';
import { stripTerminalEscapes, terminalSafe } from './terminal-text.js';

describe('agent text on its way to a terminal or a log excerpt', () => {
  test('colours, cursor moves and OSC sequences go, however they end; the lines after them stay', () => {
    const log = [
      'step 1 \x1b[31mred\x1b[0m done',
      'title \x1b]0;owned\x1b\\ set',
      'link \x1b]8;;https://x.example\x07here\x1b]8;;\x07',
      'hidden? no',
      'clear \x1b[2J\x1b[H and 8-bit \x9b31m CSI',
      'unended \x1b]52;c;Zm9v',
      'still here',
      'bell later \x07',
    ].join('\n');
    expect(stripTerminalEscapes(log).split('\n')).toEqual([
      'step 1 red done',
      'title  set',
      'link here',
      'hidden? no',
      'clear  and 8-bit  CSI',
      'unended ',
      'still here',
      'bell later \x07',
    ]);
  });

  test('terminalSafe leaves no control character but newline and tab, and shows the rest', () => {
    const shown = terminalSafe('quota hit \x1b[2J\x1b]0;TITLE\x07 fix: run it\r\nnext\tline \x08\x7f');
    expect(shown).toBe('quota hit  fix: run it\\x0d\nnext\tline \\x08\\x7f');
    expect(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(shown)).toBe(false);
  });
});
