import { describe, expect, test } from 'vitest';
import { renderStatusText } from '../../cli/commands/status.js';
import type { LoopStatus } from '../schemas/messages.js';
import { historyClass, lastDecisionClass, renderStatusCard } from './status-card.js';

const status = (history: LoopStatus['history'], lastClass: LoopStatus['history'][number]['class']): LoopStatus => ({
  workflowId: 'loop-x',
  name: 'x',
  goal: 'g',
  root: '/r',
  phase: 'executing',
  session: 2,
  metric: 'm',
  direction: 'maximize',
  best: { session: 0, value: 1 },
  baseline: 1,
  history,
  budget: { sessions: 5, wallClockMs: null, tokens: null, costUsd: null },
  used: { sessions: 1, wallClockMs: 0, tokens: 0, costUsd: 0 },
  warnings: [],
  lastDecision: { session: 1, class: lastClass, reason: 'rule 5' },
  pending: null,
  paused: false,
  stopRequested: null,
  stopReason: null,
  interventions: [],
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('a held decision and its answer in the status', () => {
  const held = { session: 1, class: 'promote', value: 2, best: 1 } as const;
  test('the history shows what the answer made of the held class, as the report does', () => {
    expect(
      [
        held,
        { ...held, answer: { kind: 'approved', applied: 'retire' } },
        { ...held, answer: { kind: 'denied', applied: 'keep' } },
        { ...held, answer: { kind: 'approved', applied: 'promote' } },
      ].map((h) => historyClass(h as LoopStatus['history'][number])),
    ).toEqual(['promote', 'promote → retire (approved)', 'promote → keep (denied)', 'promote (approved)']);
  });
  test("status's and the card's last decision say it too; with no answer, the applied class as before", () => {
    const answered = status([{ ...held, answer: { kind: 'approved', applied: 'retire' } }], 'retire');
    expect(renderStatusText(answered, 0)).toContain(
      '\nlast decision: session 001 promote → retire (approved) (rule 5)\n',
    );
    expect(renderStatusCard(answered)).toContain('Last decision: session 001 **promote → retire (approved)**');
    expect(lastDecisionClass(status([held], 'retire'))).toBe('retire');
  });
});
