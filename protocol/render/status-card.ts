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
      `Last decision: session ${sessionLabel(s.lastDecision.session)} **${s.lastDecision.class}**${s.lastDecision.reason ? ` — ${s.lastDecision.reason}` : ''}`,
    );
  if (s.pending)
    lines.push('', `**Waiting:** ${[s.pending.message, ...pendingAnswers(s).map((c) => `\`${c}\``)].join('  \n')}`);
  for (const w of s.warnings) lines.push('', `⚠ ${w}`);
  if (s.stopReason) lines.push('', `Ended: **${s.stopReason}**`);
  lines.push('', `Root: \`${s.root}\``);
  return `${lines.join('\n')}\n`;
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
