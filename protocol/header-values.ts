import { readClass } from './decision.js';
import { axisKey, stripValue } from './decision-loose.js';
import { type DecisionClass, VERDICTS, type Verdict } from './vocabulary.js';

/**
 * Header values as agents write them (`verdict: **Unsupported** (gain within noise)`, `status:
 * Blocked — eval.py crashed`, `axis: Learning Rate`): the word they mean, read the way the agent
 * supervisor's decision is read (protocol/decision.ts), so that a reviewer's veto or an executor's
 * ABSTAIN is not lost to a full stop, bold, an emoji or an explanation after it.
 */

/** The value's words, lower-cased, without the Markdown, quotes and punctuation around them. */
const words = (text: string): string[] =>
  stripValue(text)
    .toLowerCase()
    .split(/[^a-z0-9_]+/)
    .filter(Boolean);

/** `supported`, `unsupported` or `uncertain` from `Unsupported.`, `not supported`, `**supported**`; else undefined. */
export function readVerdict(text: string): Verdict | undefined {
  const [first, second] = words(text);
  if (first === 'not' && (second === 'supported' || second === 'support')) return 'unsupported';
  return (VERDICTS as readonly string[]).includes(first ?? '') ? (first as Verdict) : undefined;
}

/** A decision class recommended by a review (`Retire.`, `promote (strong)`, `Return to best`); else undefined. */
export const readRecommendation = (text: string): DecisionClass | undefined => readClass(text)?.value;

const STATUS_WORDS: Readonly<Record<string, 'DONE' | 'ABSTAIN' | 'BLOCKED'>> = {
  done: 'DONE',
  abstain: 'ABSTAIN',
  abstained: 'ABSTAIN',
  blocked: 'BLOCKED',
  failed: 'BLOCKED',
  failure: 'BLOCKED',
  error: 'BLOCKED',
};

/**
 * DONE, ABSTAIN or BLOCKED from a report's or review's `status:` (`ABSTAIN - no viable idea`,
 * `Blocked — eval.py crashed`, `FAILED`), with what follows the word as its reason; undefined for
 * any other word.
 */
export function readStatus(text: string): { status: 'DONE' | 'ABSTAIN' | 'BLOCKED'; rest: string } | undefined {
  const value = stripValue(text);
  const m = /^[^A-Za-z]*([A-Za-z]+)\W*(.*)$/s.exec(value);
  const status = m ? STATUS_WORDS[m[1]!.toLowerCase()] : undefined;
  return status ? { status, rest: m![2]!.replace(/^[-—–:,;(\s]+|[)\s]+$/g, '').trim() } : undefined;
}

/** An axis name as the engine keys it (`Learning Rate` → `learning-rate`): one reading for reports and decisions. */
export const readAxis = axisKey;
