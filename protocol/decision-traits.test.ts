import { describe, expect, test } from 'vitest';
import { classesWhere, DECISION_TRAITS, type DecisionTraits, SUMMARY_BUCKETS } from './decision-traits.js';
import { renderDecision } from './decision.js';
import { applyDecision } from './loop-progress.js';
import { renderFinalSummary } from './render/final-summary.js';
import { renderRollingSummary } from './render/rolling-summary.js';
import { decisionStyle } from './report/trend-chart.js';
import { applyHumanAnswer } from './session-decision.js';
import type { LeaderboardRow } from './schemas/leaderboard.js';
import { toLoopConfig } from './schemas/loop-config.js';
import { LoopSpecSchema } from './schemas/loop-spec.js';
import { ApproveInputSchema } from './schemas/messages.js';
import type { DecisionBlock } from './schemas/state.js';
import { enforceAgentDecision } from './supervisor-rules.js';
import { DECISION_CLASSES, type DecisionClass } from './vocabulary.js';

// A class added to DECISION_CLASSES without traits does not compile: the table is keyed by the union.
// @ts-expect-error -- `new_class` has no traits
const _missing: Readonly<Record<DecisionClass | 'new_class', DecisionTraits>> = DECISION_TRAITS;

const CONFIG = toLoopConfig(
  LoopSpecSchema.parse({
    name: 'traits',
    root: '.',
    goal: 'raise x',
    budget: { sessions: 20 },
    evidence: { command: 'node eval.mjs', metric: 'score' },
    executor: { agent: 'shell', command: 'true' },
  }),
  '/loops/traits',
);

const row = (session: number, cls: DecisionClass): LeaderboardRow => ({
  session,
  timestamp: '2026-12-01T00:00:00.000Z',
  axis: 'x',
  class: cls,
  metric: 'score',
  value: session,
  protection: 'pass',
  best_session: 1,
  best_value: 1,
  reviews: [],
  variant: null,
});
/** One session of every class, session n holding DECISION_CLASSES[n - 1]. */
const ROWS = DECISION_CLASSES.map((cls, i) => row(i + 1, cls));
const label = (cls: DecisionClass) => String(DECISION_CLASSES.indexOf(cls) + 1).padStart(3, '0');

const block = (cls: DecisionClass): DecisionBlock => ({
  class: cls,
  session: 3,
  metric: 'score',
  value: 3,
  best_session: 1,
  best_value: 1,
  axis: 'x',
  next_axis: null,
  protection: 'pass',
  reviews: [],
  approval: 'none',
  on_approve: null,
  on_deny: null,
  stop_reason: null,
  source: 'agent',
  reason: 'because',
  next: null,
});

describe('decision traits: one table every reader follows', () => {
  test('the traits hold together', () => {
    for (const cls of DECISION_CLASSES) {
      const t = DECISION_TRAITS[cls];
      expect.soft(t.makesBest && t.restoresBest, `${cls} both keeps a new best and restores the old one`).toBe(false);
      expect.soft(!t.retiresAxis || t.restoresBest, `${cls} retires its axis but keeps its workspace`).toBe(true);
      expect
        .soft(t.bucket === 'retired', `${cls}: the retired bucket is exactly the restoring classes`)
        .toBe(t.restoresBest);
      expect
        .soft(t.endsLoop, `${cls}: the stopped bucket is exactly the classes that end the loop`)
        .toBe(t.bucket === 'stopped');
    }
    const colours = DECISION_CLASSES.map((c) => DECISION_TRAITS[c].chart.color);
    expect(new Set(colours).size).toBe(colours.length);
  });

  test('ROLLING_SUMMARY.md buckets every session by its class', () => {
    const text = renderRollingSummary({ config: CONFIG, records: [], best: null, axes: [], rows: ROWS });
    for (const bucket of SUMMARY_BUCKETS) {
      const sessions = classesWhere((t) => t.bucket === bucket).map(label);
      expect(text).toContain(`- ${bucket}: ${sessions.length} (${sessions.join(', ')})`);
    }
  });

  test('FINAL_SUMMARY.md lists the retired bucket as rejected candidates', () => {
    const text = renderFinalSummary({
      config: CONFIG,
      stopReason: 'budget_sessions',
      stoppedAt: '2026-12-01T00:00:00.000Z',
      sessionsUsed: ROWS.length,
      usage: { tokensIn: 0, tokensOut: 0, costUsd: 0 },
      elapsedMs: 0,
      best: null,
      rows: ROWS,
      recent: [],
      axes: [],
      interventions: [],
    });
    const section = text.slice(
      text.indexOf('## Rejected But Informative Candidates'),
      text.indexOf('## Retired Directions'),
    );
    const listed = [...section.matchAll(/^- session (\d{3}) \((\w+),/gm)].map((m) => m[2]);
    expect(listed).toEqual(classesWhere((t) => t.bucket === 'retired'));
  });

  test('decision.md says what each class does next', () => {
    for (const cls of DECISION_CLASSES) {
      const md = renderDecision({
        block: block(cls),
        judgment: '',
        remaining: { sessions: 1, wallClockMs: null, tokens: null, costUsd: null },
        best: null,
        axes: [],
        plateauSessions: 3,
        interventions: [],
      });
      expect(md).toContain(`${cls}: ${DECISION_TRAITS[cls].effect}`);
    }
  });

  test('the chart colours each class from its traits', () => {
    for (const cls of DECISION_CLASSES) expect(decisionStyle(cls)).toEqual(DECISION_TRAITS[cls].chart);
  });

  test('the axis plateau moves as the class says, for the session and for a human answer', () => {
    const axes = [{ name: 'x', plateau: 1, retired: false, retiredAtSession: null, sessions: 2, bestValue: 1 }];
    for (const cls of DECISION_CLASSES) {
      const t = DECISION_TRAITS[cls];
      const after = applyDecision(
        { best: null, axes },
        {
          class: cls,
          session: 3,
          axis: 'x',
          value: 0,
          metrics: {},
          variant: 'v',
          promotes: false,
          direction: 'maximize',
        },
      );
      expect.soft(after.axes[0]!.plateau, cls).toBe(t.advancesPlateau ? 2 : 1);
      expect.soft(after.axes[0]!.retired, cls).toBe(t.retiresAxis);
      const answered = applyHumanAnswer({
        decision: cls,
        onApprove: null,
        onDeny: null,
        stopReasonOnApprove: null,
        answer: { kind: 'approve' },
        axes,
        axis: 'x',
      });
      // An answer that retires the axis leaves its count as it was (the session's own close counted it).
      const plateau = t.makesBest ? 0 : t.retiresAxis ? 1 : t.advancesPlateau ? 2 : 1;
      expect.soft(answered.axes[0]!.plateau, cls).toBe(plateau);
      expect.soft(answered.axes[0]!.retired, cls).toBe(t.retiresAxis);
    }
  });

  test('an approve may name exactly the approvable classes', () => {
    for (const cls of DECISION_CLASSES) {
      expect
        .soft(ApproveInputSchema.safeParse({ session: 1, decision: cls }).success, cls)
        .toBe(DECISION_TRAITS[cls].approvable);
    }
  });

  test("an agent supervisor's choice is taken, held to the evidence or asked of a human, as the class says", () => {
    const noValue = { value: null, protectionPass: true, protectedChanged: false };
    for (const cls of DECISION_CLASSES) {
      const enforced = enforceAgentDecision(block(cls), noValue).block;
      const expected = { taken: cls, needs_evidence: 'needs_more_evidence', asks_user: 'ask_user' }[
        DECISION_TRAITS[cls].agentChoice
      ];
      expect.soft(enforced.class, cls).toBe(expected);
      expect
        .soft(
          enforceAgentDecision(block(cls), { value: 3, protectionPass: true, protectedChanged: false }).block.class,
          cls,
        )
        .toBe(DECISION_TRAITS[cls].agentChoice === 'asks_user' ? 'ask_user' : cls);
    }
  });
});
