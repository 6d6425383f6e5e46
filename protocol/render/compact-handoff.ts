import { RESUME_READ_ORDER, reviewsDir, sessionFilePath, sessionLabel } from '../layout.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import type { AxisState, Best, SessionRecord } from '../schemas/state.js';
import { bullets } from './table.js';

/** COMPACT_HANDOFF.md and compact/session_NNN-{AGENT}.md (docs/protocol.md#checkpoints), written at checkpoints. */

export interface CompactHandoffInput {
  config: LoopConfig;
  /** The session that opens next; the last closed one is the one before. */
  nextSession: number;
  /** Recent closed sessions, oldest first; the last holds the latest decision. */
  records: readonly SessionRecord[];
  best: Best | null;
  axes: readonly AxisState[];
  /** Human redirect notes not yet acted on. */
  redirects: readonly string[];
}

function state(input: CompactHandoffInput): string[] {
  const { best } = input;
  const lastDecision = input.records.at(-1)?.decision ?? null;
  return [
    `last closed session: ${sessionLabel(input.nextSession - 1)} of ${input.config.budget.sessions}`,
    best ? `best: ${best.value} at session ${sessionLabel(best.session)} (${best.variant})` : 'best: none yet',
    lastDecision
      ? `last decision: ${lastDecision.class}${lastDecision.approval === 'pending' ? ' (waiting for approval)' : ''}`
      : 'last decision: none',
    `retired axes: ${
      input.axes
        .filter((a) => a.retired)
        .map((a) => a.name)
        .join(', ') || 'none'
    }`,
  ];
}

const reminders = (input: CompactHandoffInput): string[] => input.redirects.map((r) => `redirect: ${r}`);

export function renderCompactHandoff(input: CompactHandoffInput): string {
  const { config } = input;
  const closed = input.nextSession - 1;
  const nextAxis = input.records.at(-1)?.decision.next_axis;
  return [
    '# Compact Handoff',
    '',
    '## Read First',
    '',
    bullets([
      ...RESUME_READ_ORDER,
      ...(closed > 0 ? [sessionFilePath(closed, 'decision'), `${reviewsDir(closed)}/ (latest review)`] : []),
    ]),
    '',
    '## Current State',
    '',
    bullets(state(input)),
    '',
    '## What Matters',
    '',
    bullets([
      `goal: ${config.goal}`,
      `evidence: ${config.evidence.direction} ${config.evidence.metric}`,
      `protection: ${config.evidence.protect.join(', ') || 'none'}`,
    ]),
    '',
    '## Next Session',
    '',
    `session ${sessionLabel(input.nextSession)}${nextAxis ? ` on axis ${nextAxis}` : ': the executor picks the axis'}`,
    '',
    '## Do Not Forget',
    '',
    bullets([...reminders(input), `never edit protected files: ${config.protected.join(', ') || 'none declared'}`]),
    '',
  ].join('\n');
}

export interface CompactSessionInput extends CompactHandoffInput {
  agent: string;
  role: 'EXECUTOR' | 'SUPERVISOR' | 'REVIEWER';
}

/** The per-agent carry-forward (`compact/session_NNN-{AGENT}.md`, NNN the last closed session): header lines, then the minimum to resume. */
export function renderCompactSession(input: CompactSessionInput): string {
  const closed = sessionLabel(input.nextSession - 1);
  return [
    `# Compact — session ${closed} ${input.agent}`,
    '',
    `agent: ${input.agent}`,
    `session: ${closed}`,
    `role: ${input.role}`,
    '',
    '## Minimal Carry-Forward',
    '',
    bullets([...state(input), ...reminders(input)]),
    '',
  ].join('\n');
}
