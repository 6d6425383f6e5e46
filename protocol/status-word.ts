import { stripValue } from './decision-loose.js';

/**
 * The status word of a report, a review or a flag body as agents write it. Apart from
 * header-values.ts (which it re-exports) so that flag bodies (schemas/flag-body.ts) read it too
 * without importing the decision reader.
 */

const STATUS_WORDS: Readonly<Record<string, 'DONE' | 'ABSTAIN' | 'BLOCKED'>> = {
  done: 'DONE',
  complete: 'DONE',
  completed: 'DONE',
  abstain: 'ABSTAIN',
  abstained: 'ABSTAIN',
  blocked: 'BLOCKED',
  failed: 'BLOCKED',
  failure: 'BLOCKED',
  error: 'BLOCKED',
  // The executor template: "if evidence is missing or work is incomplete, use `BLOCKED`".
  incomplete: 'BLOCKED',
  partial: 'BLOCKED',
  partially: 'BLOCKED',
  crashed: 'BLOCKED',
  not: 'BLOCKED',
};

/**
 * DONE, ABSTAIN or BLOCKED from a report's or review's `status:` (`ABSTAIN - no viable idea`,
 * `Blocked — eval.py crashed`, `FAILED`, `⚠️ not done — blocked on GPU`, `PARTIAL (2 of 3 ran)`),
 * with what follows the word as its reason; undefined for any other word. Work not done,
 * incomplete or partial is BLOCKED, as the original executor template asks.
 */
export function readStatus(text: string): { status: 'DONE' | 'ABSTAIN' | 'BLOCKED'; rest: string } | undefined {
  const value = stripValue(text);
  const m = /^[^\p{L}\p{N}]*(\p{L}+)(?:\s+(?:done|complete|completed|finished)\b)?[^\p{L}\p{N}]*(.*)$/isu.exec(value);
  const status = m ? STATUS_WORDS[m[1]!.toLowerCase()] : undefined;
  if (!status) return undefined;
  let rest = m![2]!.replace(/^[-—–:,;(\s]+|\s+$/g, '');
  // A closing parenthesis is dropped with the opening one the separator took.
  if (rest.endsWith(')') && (rest.match(/\(/g) ?? []).length < (rest.match(/\)/g) ?? []).length)
    rest = rest.slice(0, -1);
  return { status, rest: rest.trim() };
}

/** A flag body's `status:` as the flag name's status word: readStatus's, else its first word upper-cased. */
export function statusWord(text: string): string {
  return readStatus(text)?.status ?? (/\p{L}+/u.exec(stripValue(text))?.[0] ?? '').toUpperCase();
}
