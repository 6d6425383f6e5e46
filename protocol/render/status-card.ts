import { formatDuration, formatElapsed } from '../duration.js';
import { sessionLabel } from '../layout.js';
import type { LoopStatus } from '../schemas/messages.js';

/** The Markdown card shown as the loop workflow's current details in the Temporal UI. */
export function renderStatusCard(s: LoopStatus): string {
  const best = s.best ? `**${s.best.value}** (session ${sessionLabel(s.best.session)})` : 'none yet';
  const lines = [
    `### ${s.name} · ${s.phase} · session ${s.session}/${s.budget.sessions}`,
    '',
    `**Goal:** ${s.goal}`,
    '',
    `| ${s.metric} (${s.direction}) | baseline | budget used |`,
    '|---|---|---|',
    `| ${best} | ${s.baseline ?? '-'} | ${s.used.sessions}/${s.budget.sessions} sessions, ${formatElapsed(s.used.wallClockMs)}${s.budget.wallClockMs ? ` of ${formatDuration(s.budget.wallClockMs)}` : ''} |`,
  ];
  if (s.lastDecision)
    lines.push(
      '',
      `Last decision: session ${sessionLabel(s.lastDecision.session)} **${lastDecisionClass(s)}**${s.lastDecision.reason ? ` — ${s.lastDecision.reason}` : ''}`,
    );
  if (s.pending)
    lines.push('', `**Waiting:** ${[s.pending.message, ...pendingAnswers(s).map((c) => `\`${c}\``)].join('  \n')}`);
  for (const w of s.warnings) lines.push('', `⚠ ${w}`);
  if (s.stopReason) lines.push('', `Ended: **${s.stopReason}**`);
  lines.push('', `Root: \`${s.root}\``);
  return `${lines.join('\n')}\n`;
}

/**
 * A session's class as the history has it, with what a human's answer made of a held one:
 * `promote → retire (approved)`, `promote → keep (denied)`, `promote (approved)` (as the report shows it).
 */
export function historyClass(h: LoopStatus['history'][number]): string {
  if (!h.answer) return h.class;
  return `${h.class}${h.answer.applied === h.class ? '' : ` → ${h.answer.applied}`} (${h.answer.kind})`;
}

/** The class of the last decision: the history's, with its answer, when it has the session (lastDecision has the applied class). */
export function lastDecisionClass(s: Pick<LoopStatus, 'history' | 'lastDecision'>): string | null {
  if (!s.lastDecision) return null;
  const h = s.history.find((x) => x.session === s.lastDecision!.session);
  return h?.answer ? historyClass(h) : s.lastDecision.class;
}

/** The commands that answer what a loop waits for: its `command`, and for an approval the deny beside it. */
export function pendingAnswers(s: Pick<LoopStatus, 'workflowId' | 'pending'>): string[] {
  const p = s.pending;
  if (!p?.command) return [];
  // A worker older than this client names both in one `command` (`… (or: loop-station deny …)`).
  return p.kind === 'approval' && p.session !== null && !p.command.includes(' deny ')
    ? [p.command, `loop-station deny ${s.workflowId} --session ${p.session}`]
    : [p.command];
}
