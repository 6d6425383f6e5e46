import { RESUME_READ_ORDER, runsDir, sessionDir, sessionLabel } from '../layout.js';
import { previousOutcomeLines } from '../previous-outcome.js';
import type { DecisionBlock } from '../schemas/state.js';
import type { CompactHandoffInput } from './compact-handoff.js';
import { distinct, perSession } from './records.js';
import { bullets, labelled } from './table.js';

/** EXECUTOR_BRIEF.md (docs/protocol.md#summaries): what the next executor reads instead of raw history. */

/** The handoff's inputs (config, next session, recent records, best, axes, redirects) plus the last decision. */
export interface ExecutorBriefInput extends CompactHandoffInput {
  lastDecision: DecisionBlock | null;
}

export function renderExecutorBrief(input: ExecutorBriefInput): string {
  const { config, best, lastDecision } = input;
  const last = input.records.at(-1);
  const retired = input.axes.filter((a) => a.retired);
  const plateaued = input.axes
    .filter((a) => !a.retired && a.plateau > 0)
    .map((a) => `axis ${a.name} has gone ${a.plateau} of ${config.evidence.plateau} sessions without a promotion`);
  const older = input.records.length ? input.records[0]!.session - 1 : input.nextSession - 1;
  return [
    `# Executor Brief — before session ${sessionLabel(input.nextSession)}`,
    '',
    '## Read This Before Planning',
    '',
    bullets([
      `goal: ${config.goal}`,
      `evidence: ${config.evidence.direction} ${config.evidence.metric}; protection ${config.evidence.protect.join(', ') || 'none'}`,
      best
        ? `best: ${best.value} at session ${sessionLabel(best.session)} (axis ${best.axis ?? 'default'})`
        : 'best: none yet',
      lastDecision
        ? `last decision: ${lastDecision.class}${lastDecision.reason ? ` (${lastDecision.reason})` : ''}`
        : 'last decision: none yet',
      ...lastOutcome(input),
      `workspace you may change: ${config.workspace.join(', ') || 'none declared'}; never touch: ${config.protected.join(', ') || 'nothing declared'}`,
    ]),
    '',
    '## Trend Digest From Reviewer',
    '',
    bullets(distinct(perSession(input.records, (r) => r.reviews.map((v) => v.trendDigest))), 'no reviewer digest yet'),
    '',
    '## What The Executor Should Try Next',
    '',
    bullets(
      [
        ...input.redirects.map((r) => `redirect from a human: ${r}`),
        ...distinct(last ? last.reviews.map((v) => v.nextAction) : []).map((a) => labelled('reviewer suggests', a)),
        ...(last?.executor.proposedNext ? [labelled('the last executor proposed', last.executor.proposedNext)] : []),
        ...(lastDecision?.next_axis ? [`next axis: ${lastDecision.next_axis}`] : []),
        ...plateaued,
        ...retired.map((a) => `do not return to retired axis ${a.name}`),
      ],
      'your call: pick the most promising axis and name it in the report header `axis:`',
    ),
    '',
    '## What Not To Reread',
    '',
    bullets([
      older > 0
        ? `session folders 001–${sessionLabel(older)}: the summaries cover them`
        : 'nothing older than the summaries yet',
      'flags/ and review_flags.md: the engine keeps the order',
    ]),
    '',
    '## Raw Logs To Reopen Only If Needed',
    '',
    bullets(last ? [`${runsDir(last.session)}/`, `${sessionDir(last.session)}/metrics.json`] : [], 'none yet'),
    '',
    `Resume read order: ${RESUME_READ_ORDER.join(', ')}.`,
    '',
  ].join('\n');
}

/**
 * How the session just closed ended (the executor prompt's lines, one text for both): for agents that
 * read this brief outside the engine's prompt. A held decision's answer is not known when it is written.
 */
function lastOutcome(input: ExecutorBriefInput): string[] {
  const last = input.records.at(-1);
  const previous = input.nextSession - 1;
  if (!last || last.session !== previous) return [];
  const decision = input.lastDecision ?? last.decision;
  return previousOutcomeLines(
    {
      executor: last.executor,
      evidence: last.evidence,
      applied: decision.approval === 'pending' ? null : decision.class,
    },
    { previous, metric: input.config.evidence.metric, best: input.best },
  ).map((line) => `session ${sessionLabel(previous)}: ${line}`);
}
