import { sessionLabel } from '../layout.js';
import { oneLine } from '../schemas/flag-body.js';
import type { DecisionBlock, Intervention, ReviewOutcome, SessionRecord } from '../schemas/state.js';

/** Small shared views over SessionRecord for the summary renderers. */

export type ReviewToken = DecisionBlock['reviews'][number];

/** A review as decision.md and the leaderboard write it: the verdict if DONE, else the outcome (§6). */
export function reviewToken(r: ReviewOutcome): ReviewToken {
  return { agent: r.agent, verdict: r.outcome === 'done' ? (r.verdict ?? 'uncertain') : r.outcome };
}

/** Non-empty, de-duplicated lines in first-seen order. */
export function distinct(lines: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(/\s+/g, ' ').trim();
    if (line && !seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  }
  return out;
}

/** `session 007: a; b` for every record whose pick yields text; repeated pieces are said once. */
export function perSession(records: readonly SessionRecord[], pick: (r: SessionRecord) => string | readonly string[] | null | undefined): string[] {
  return records.flatMap((r) => {
    const picked = pick(r);
    const text = distinct(typeof picked === 'string' ? [picked] : (picked ?? [])).join('; ');
    return text ? [`session ${sessionLabel(r.session)}: ${text}`] : [];
  });
}

/** One line per human message, as decision.md, the ledger and the final summary list them. */
export const interventionLine = (i: Intervention): string => `${i.at} session ${sessionLabel(i.session)} ${i.kind} (${i.via}): ${oneLine(i.note) || '-'}`;
