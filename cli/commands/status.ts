import { formatDuration, formatElapsed } from '../../protocol/duration.js';
import { sessionLabel } from '../../protocol/layout.js';
import { interventionLine } from '../../protocol/render/records.js';
import { lastDecisionClass, pendingAnswers } from '../../protocol/render/status-card.js';
import type { LoopStatus } from '../../protocol/schemas/messages.js';

/**
 * Time since a loop started, as `status` and `watch` show it. The workflow's figure is workflow
 * time, which moves only with workflow tasks and so stands still while an agent runs: for a loop
 * still running, count from its start on this machine's clock (never below the workflow's figure).
 */
export function loopElapsedMs(s: LoopStatus, nowMs: number): number {
  if (s.phase === 'finished' || s.stopReason !== null) return s.used.wallClockMs;
  return Math.max(s.used.wallClockMs, nowMs - Date.parse(s.startedAt));
}

/** A command the workflow wrote (`loop-station resume loop-x`) with the connection flags `cli` adds. */
const withFlags = (command: string, cli: (words: string) => string): string =>
  command.startsWith('loop-station ') ? cli(command.slice('loop-station '.length)) : command;

/** The text card of `status`; `cli` writes a command to answer it (Connected.cli: with the user's flags). */
export function renderStatusText(
  s: LoopStatus,
  nowMs: number,
  cli: (words: string) => string = (words) => `loop-station ${words}`,
): string {
  const best = s.best ? `${s.metric} ${s.best.value} (session ${sessionLabel(s.best.session)})` : 'none yet';
  /** ` of <budget>` when the budget is set. */
  const of = <T>(budget: T | null | undefined, show: (b: T) => string) => (budget ? ` of ${show(budget)}` : '');
  const elapsed = formatElapsed(loopElapsedMs(s, nowMs));
  const lines = [
    `${s.workflowId}  ${s.phase}  session ${s.session}/${s.budget.sessions}`,
    `goal: ${s.goal}`,
    `root: ${s.root}`,
    `best: ${best}${s.baseline !== null ? `; baseline ${s.baseline}` : ''}`,
    `used: ${s.used.sessions} session${s.used.sessions === 1 ? '' : 's'}, ` +
      `${elapsed}${of(s.budget.wallClockMs, formatDuration)}, ` +
      `${s.used.tokens} tokens${of(s.budget.tokens, String)}, ` +
      `$${s.used.costUsd.toFixed(2)}${of(s.budget.costUsd, (c) => `$${c}`)}`,
  ];
  if (s.lastDecision)
    lines.push(
      `last decision: session ${sessionLabel(s.lastDecision.session)} ${lastDecisionClass(s)}` +
        (s.lastDecision.reason ? ` (${s.lastDecision.reason})` : ''),
    );
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  if (s.pending)
    lines.push(
      [
        `pending: ${s.pending.message}`,
        ...pendingAnswers(s).map((c, i) => `  ${i ? 'or' : 'answer'}: ${withFlags(c, cli)}`),
      ].join('\n'),
    );
  // Paused behind another wait (an approval, a fix): the answer alone does not start the next session.
  if (s.paused && s.pending && s.pending.kind !== 'pause' && s.stopReason === null)
    lines.push(`paused as well: after the answer no new session starts until ${cli(`resume ${s.workflowId}`)}`);
  if (s.stopRequested)
    lines.push(
      `stop requested (${s.stopRequested.mode})${s.stopRequested.reason ? `: ${s.stopRequested.reason}` : ''}`,
    );
  if (s.stopReason) lines.push(`ended: ${s.stopReason}`);
  // The latest human messages, with who sent them (the ledger has them all).
  for (const i of s.interventions.filter((x) => x.via !== 'engine').slice(-3))
    lines.push(`message: ${interventionLine(i)}`);
  // What the engine did on its own (an unanswered question it answered, a budget warning, a breaker).
  for (const i of s.interventions.filter((x) => x.via === 'engine').slice(-2))
    lines.push(`engine: ${interventionLine(i)}`);
  return `${lines.join('\n')}\n`;
}
