import { DECISION_TRAITS } from './decision-traits.js';
import { evidencePackPath, runsDir, sessionLabel } from './layout.js';
import type { EvidenceResult, ExecutorOutcome } from './schemas/state.js';
import type { DecisionClass } from './vocabulary.js';

/**
 * How a session ended, as the next executor is told it: in its prompt (protocol/prompts/prompts.ts)
 * and in EXECUTOR_BRIEF.md (protocol/render/executor-brief.ts), one text for both.
 */

export interface PreviousOutcome {
  executor: Pick<ExecutorOutcome, 'status' | 'reason'>;
  evidence: Pick<EvidenceResult, 'value' | 'error' | 'protection'> | null;
  /** The class that took effect (a held decision's answer); null while a human's answer is awaited. */
  applied: DecisionClass | null;
}

/** One line of at most `max` characters, cut at a word boundary so no word reads as another. */
export const shorten = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
};

/**
 * What session `previous` measured and left in the workspace, from its record, as list items (no
 * bullet): the decision's reason alone names a rule, not that the evaluator crashed or the executor
 * was blocked, nor whether the workspace is the best's or still holds an unpromoted change.
 */
export function previousOutcomeLines(
  o: PreviousOutcome,
  ctx: { previous: number; metric: string; best: { session: number } | null },
): string[] {
  const { previous, metric } = ctx;
  const lines: string[] = [];
  if (o.executor.status !== 'DONE')
    lines.push(
      `its executor ended ${o.executor.status}${o.executor.reason ? `: ${shorten(o.executor.reason, 300)}` : ''}`,
    );
  const runs = runsDir(previous);
  if (o.evidence?.error)
    lines.push(
      `its evidence command failed (${shorten(o.evidence.error, 200)}), so nothing was measured: read why in ${runs}/evidence.stderr.log and ${runs}/evidence.stdout.log before you change anything else`,
    );
  else if (o.evidence && o.evidence.value !== null) {
    const failed = o.evidence.protection.filter((p) => !p.pass);
    lines.push(
      `it measured ${metric} = ${o.evidence.value}` +
        (failed.length
          ? `; protection failed: ${failed.map((p) => `${p.criterion} (${p.value ?? 'missing'})`).join(', ')}`
          : ''),
    );
  } else if (!o.evidence) lines.push('its evidence did not run: nothing was measured');
  const best = ctx.best ? `the best (session ${sessionLabel(ctx.best.session)})` : 'the baseline';
  const diff = evidencePackPath(previous, 'diffBest');
  // The session may be the best whatever its class: a success ask (pending, or denied: keep) promotes too.
  const isBest = ctx.best?.session === previous;
  const waits = o.applied === null ? "; its decision waits for a human's answer" : '';
  if (o.applied !== null && DECISION_TRAITS[o.applied].restoresBest)
    lines.push(`the workspace was restored to ${best}: session ${sessionLabel(previous)}'s change is gone`);
  else if (isBest || (o.applied !== null && DECISION_TRAITS[o.applied].makesBest))
    lines.push(`the workspace holds its change, now ${best}${waits}`);
  else if (o.applied === null)
    lines.push(
      `its decision waits for a human's answer, which decides whether the workspace keeps session ${sessionLabel(previous)}'s change (not ${best}): ${diff} shows how it differs`,
    );
  else if (!DECISION_TRAITS[o.applied].endsLoop)
    lines.push(
      `the workspace still holds session ${sessionLabel(previous)}'s change (${o.applied}), which is not ${best}: ${diff} shows how it differs; keep it only on purpose`,
    );
  return lines;
}
