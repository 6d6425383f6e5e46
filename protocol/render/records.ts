import { sessionLabel } from '../layout.js';
import { oneLine } from '../schemas/flag-body.js';
import type { DecisionBlock, Intervention, ReviewOutcome, SessionRecord } from '../schemas/state.js';
import { labelled } from './table.js';

/** Small shared views over SessionRecord for the summary renderers. */

export type ReviewToken = DecisionBlock['reviews'][number];

/** A review as decision.md and the leaderboard write it: the verdict if DONE, else the outcome (§6). */
export function reviewToken(r: ReviewOutcome): ReviewToken {
  return { agent: r.agent, verdict: r.outcome === 'done' ? (r.verdict ?? 'uncertain') : r.outcome };
}

/** Texts that differ only in spacing are one text: the key they are compared by. */
export const sameTextKey = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Non-empty, de-duplicated texts in first-seen order; a text of several lines (a digest) keeps them. */
export function distinct(texts: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of texts) {
    const key = sameTextKey(raw);
    if (key && !seen.has(key)) {
      seen.add(key);
      out.push(raw.includes('\n') ? raw.trim() : key);
    }
  }
  return out;
}

/**
 * `session 007: a; b` for every record whose pick yields text; repeated pieces are said once. A
 * piece of several lines (a list, a code block) gets an item of its own, below `session 007:`.
 */
export function perSession(
  records: readonly SessionRecord[],
  pick: (r: SessionRecord) => string | readonly string[] | null | undefined,
): string[] {
  return records.flatMap((r) => {
    const picked = pick(r);
    const pieces = distinct(typeof picked === 'string' ? [picked] : (picked ?? []));
    const label = `session ${sessionLabel(r.session)}`;
    const oneLine = pieces.filter((p) => !p.includes('\n')).join('; ');
    return [
      ...(oneLine ? [`${label}: ${oneLine}`] : []),
      ...pieces.filter((p) => p.includes('\n')).map((p) => labelled(label, p)),
    ];
  });
}

/** One line per human message, as decision.md, the ledger, the final summary and `status` list them. */
export const interventionLine = (
  i: Pick<Intervention, 'at' | 'session' | 'note' | 'by'> & { kind: string; via: string },
): string =>
  `${i.at} session ${sessionLabel(i.session)} ${i.kind} (${i.via}${i.by ? ` by ${oneLine(i.by)}` : ''}): ${oneLine(i.note) || '-'}`;
