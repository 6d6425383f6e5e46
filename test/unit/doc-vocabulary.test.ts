import { describe, expect, test } from 'vitest';
import { FINDING_CODES, severityOf } from '../../protocol/finding.js';
import { LOOP_PHASES } from '../../protocol/schemas/messages.js';
import { STOP_REASONS } from '../../protocol/vocabulary.js';
import { readRepoFile } from '../helpers/doc-links.js';

/**
 * Closed lists the docs spell out for people who query or script against them: each must hold
 * exactly the values the code has, so a new phase or stop reason cannot go undocumented.
 */

/** The backticked words of `text`. */
const codeWords = (text: string) => [...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);

/** The rows of the first Markdown table after `heading` in `doc`, as cells (header and rule left out). */
function tableRows(doc: string, heading: string): string[][] {
  const start = doc.indexOf(heading);
  expect(start, `the heading ${heading}`).toBeGreaterThan(-1);
  const table = doc.slice(doc.indexOf('\n|', start) + 1);
  const lines = table.slice(0, table.search(/\n(?!\|)/)).split('\n');
  return lines.slice(2).map((row) => row.split('|').slice(1, -1));
}

describe('closed lists in the docs', () => {
  test('operations.md lists every LoopPhase a loop can take, and only those', () => {
    const doc = readRepoFile('docs/operations.md');
    const sentence = /The phases for `LoopPhase` queries are ([^.]+)\./.exec(doc.replace(/\n/g, ' '));
    expect(sentence, 'docs/operations.md: the sentence listing the LoopPhase values').not.toBeNull();
    expect(codeWords(sentence![1]!).sort()).toEqual([...LOOP_PHASES].sort());
  });

  test('protocol.md §9 gives every stop reason a row, and no other', () => {
    const rows = tableRows(readRepoFile('docs/protocol.md'), '## §9 ');
    const reasons = rows.flatMap(([reason]) => codeWords(reason!));
    expect(reasons.sort()).toEqual([...STOP_REASONS].sort());
  });

  test('protocol.md §3.3 gives every finding code a row, marked with the severity the validator gives it', () => {
    const rows = tableRows(readRepoFile('docs/protocol.md'), '**Violation codes**');
    const documented = rows.map(([cell]) => {
      const m = /^ `([A-Z_]+)`(?: \((W|W\(o\))\))? $/.exec(cell!);
      expect(m, `a code cell: ${cell}`).not.toBeNull();
      return `${m![1]} ${m![2] ?? 'E'}`;
    });
    const marker = (code: (typeof FINDING_CODES)[number]) =>
      severityOf(code, 'engine') === 'warning' ? 'W' : severityOf(code, 'original') === 'warning' ? 'W(o)' : 'E';
    expect(documented.sort()).toEqual(FINDING_CODES.map((code) => `${code} ${marker(code)}`).sort());
  });
});
