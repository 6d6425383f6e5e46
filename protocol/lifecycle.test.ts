import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatFlagName, parseFlagName, type FlagName } from './flag-name.js';
import {
  allowedNext,
  applyFlag,
  applyRecord,
  initialSessionState,
  isSessionClosed,
  markArtifactPresent,
  replaySession,
  type LifecycleContext,
  type LifecycleEvent,
  type LifecycleStep,
} from './lifecycle.js';
import { parseReviewRecord } from './schemas/review-flags.js';

const ctxOf = (
  reviewers: { token: string; required: boolean }[],
  extra: Partial<LifecycleContext> = {},
): LifecycleContext => ({
  session: 7,
  executorToken: 'CODEX',
  supervisorToken: 'LOOP_STATION',
  reviewers,
  previousSessionClosed: true,
  ...extra,
});
const CTX = ctxOf([
  { token: 'CLAUDE', required: true },
  { token: 'LINT', required: false },
]);

/** `CLAUDE REVIEWER DONE` or `record REVIEW_CONSUMED:CLAUDE` → an event of session 7. */
function ev(text: string, extra: { artifactOk?: boolean; isEngine?: boolean; repairs?: string } = {}): LifecycleEvent {
  if (text.startsWith('record ')) return { record: parseReviewRecord(text.slice(7))! };
  const [agent, role, status, k] = text.split(' ');
  const name = parseFlagName(`${agent}-SESSION007-${role}-${status}${k ? `-${k}` : ''}.flag`);
  if (!name) throw new Error(`bad step ${text}`);
  return { name, ...extra };
}

const REVIEWED = [
  'CLAUDE REVIEWER STANDBY',
  'CODEX EXECUTOR RUNNING',
  'CODEX EXECUTOR HEARTBEAT',
  'CODEX EXECUTOR DONE',
  'LOOP_STATION SUPERVISOR RUNNING',
  'LOOP_STATION SUPERVISOR READY',
  'CLAUDE REVIEWER RUNNING',
  'LINT REVIEWER RUNNING',
  'CLAUDE REVIEWER HEARTBEAT',
  'LINT REVIEWER DONE',
  'CLAUDE REVIEWER DONE',
  'record REVIEW_CONSUMED:CLAUDE',
  'record REVIEW_CONSUMED:LINT',
  'LOOP_STATION SUPERVISOR DONE',
];

const codes = (events: LifecycleEvent[], ctx = CTX, complete = true) =>
  replaySession(events, ctx, { complete }).findings.map((f) => `${f.severity} ${f.code}`);

describe('lifecycle examples', () => {
  test('a reviewed trail in canonical order closes the session without findings', () => {
    const { state, findings } = replaySession(
      REVIEWED.map((s) => ev(s)),
      CTX,
      { complete: true },
    );
    expect(findings).toEqual([]);
    expect(isSessionClosed(state)).toBe(true);
    expect(state.reviewers.map((r) => [r.token, r.outcome, r.counted, r.consumed])).toEqual([
      ['CLAUDE', 'done', true, true],
      ['LINT', 'done', true, true],
    ]);
  });

  test('an executor failure skips READY and reviews; reviewers end skipped at the close', () => {
    const trail = [
      'CODEX EXECUTOR RUNNING',
      'CODEX EXECUTOR BLOCKED',
      'LOOP_STATION SUPERVISOR RUNNING',
      'LOOP_STATION SUPERVISOR DONE',
    ];
    const { state, findings } = replaySession(
      trail.map((s) => ev(s)),
      CTX,
      { complete: true },
    );
    expect(findings).toEqual([]);
    expect(state.reviewers.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
  });

  test.for([
    ['a reviewer flag before EXECUTOR-RUNNING', ['CLAUDE REVIEWER RUNNING'], ['error ORDER_BEFORE_EXECUTOR_RUNNING']],
    [
      'a second EXECUTOR-DONE',
      ['CODEX EXECUTOR RUNNING', 'CODEX EXECUTOR DONE', 'CODEX EXECUTOR DONE'],
      ['error FLAG_DUPLICATE'],
    ],
    [
      'BLOCKED after DONE',
      ['CODEX EXECUTOR RUNNING', 'CODEX EXECUTOR DONE', 'CODEX EXECUTOR BLOCKED'],
      ['error TERMINAL_AFTER_TERMINAL'],
    ],
    [
      'SUPERVISOR-RUNNING while the executor runs',
      ['CODEX EXECUTOR RUNNING', 'LOOP_STATION SUPERVISOR RUNNING'],
      ['error ORDER_SUPERVISOR_BEFORE_EXECUTOR_TERMINAL'],
    ],
    [
      'READY after an executor failure',
      [
        'CODEX EXECUTOR RUNNING',
        'CODEX EXECUTOR TIMEOUT',
        'LOOP_STATION SUPERVISOR RUNNING',
        'LOOP_STATION SUPERVISOR READY',
      ],
      ['error ORDER_READY_AFTER_EXECUTOR_FAILURE'],
    ],
    [
      'READY without self-review',
      ['CODEX EXECUTOR RUNNING', 'CODEX EXECUTOR DONE', 'LOOP_STATION SUPERVISOR READY'],
      ['error ORDER_READY_BEFORE_SELF_REVIEW'],
    ],
    [
      'a review before READY',
      ['CODEX EXECUTOR RUNNING', 'CODEX EXECUTOR DONE', 'CLAUDE REVIEWER DONE'],
      ['error ORDER_REVIEW_BEFORE_READY'],
    ],
    [
      'a second terminal from a reviewer',
      [...REVIEWED.slice(1, 7), 'CLAUDE REVIEWER DONE', 'CLAUDE REVIEWER BLOCKED'],
      ['error TERMINAL_AFTER_TERMINAL'],
    ],
    [
      'a reviewer flag after its TIMEOUT',
      [...REVIEWED.slice(1, 7), 'CLAUDE REVIEWER TIMEOUT', 'CLAUDE REVIEWER DONE'],
      ['warning REVIEW_LATE'],
    ],
    ['an engine-only flag from outside', ['CODEX EXECUTOR RUNNING'], ['error FLAG_UNKNOWN_PRODUCER']],
    ['a flag of another session', ['CODEX EXECUTOR RUNNING'], ['error FLAG_WRONG_SESSION']],
    ['a status the role does not write', ['CODEX EXECUTOR READY'], ['error FLAG_NAME_INVALID']],
    ['an agent not in the roster', ['GEMINI REVIEWER STANDBY'], ['error FLAG_UNKNOWN_PRODUCER']],
  ] as const)('%s is reported', ([, trail, expected], { task }) => {
    const events = trail.map((s) => ev(s));
    const last = events.at(-1)! as { name: FlagName; isEngine?: boolean };
    if (task.name.startsWith('an engine-only')) last.isEngine = false;
    if (task.name.startsWith('a flag of another')) last.name = { ...last.name, session: 8 };
    const result = replaySession(events.slice(0, -1), CTX);
    expect(applyFlag(result.state, last, CTX).findings.map((f) => `${f.severity} ${f.code}`)).toEqual(expected);
  });

  test('a close before the required review is an invalid close until REPAIRED', () => {
    const early = [...REVIEWED.slice(1, 8), 'LOOP_STATION SUPERVISOR DONE'];
    expect(codes(early.map((s) => ev(s)))).toEqual([
      'error ORDER_SUPERVISOR_DONE_BEFORE_REVIEW',
      'error SESSION_NOT_CLOSED',
    ]);
    const repaired = [
      ...early,
      'LOOP_STATION SUPERVISOR VIOLATION',
      'CLAUDE REVIEWER DONE',
      'record REVIEW_CONSUMED:CLAUDE',
      'LOOP_STATION SUPERVISOR REPAIRED',
    ];
    const { state, findings } = replaySession(
      repaired.map((s) => ev(s)),
      CTX,
      { complete: true },
    );
    expect(findings.map((f) => f.code)).toEqual(['ORDER_SUPERVISOR_DONE_BEFORE_REVIEW']);
    expect(isSessionClosed(state)).toBe(true);
  });

  test('a counted review without REVIEW_CONSUMED before the close is REVIEW_NOT_CONSUMED', () => {
    const trail = REVIEWED.filter((s) => s !== 'record REVIEW_CONSUMED:CLAUDE');
    expect(codes(trail.map((s) => ev(s)))).toEqual(['error REVIEW_NOT_CONSUMED']);
  });

  test('an unrepaired VIOLATION keeps the session open; live loops only warn', () => {
    const trail = [...REVIEWED, 'LOOP_STATION SUPERVISOR VIOLATION'].map((s) => ev(s));
    expect(codes(trail)).toEqual(['error VIOLATION_NOT_REPAIRED']);
    expect(
      replaySession(trail, CTX, { complete: true, live: true }).findings.map((f) => `${f.severity} ${f.code}`),
    ).toEqual(['warning VIOLATION_NOT_REPAIRED']);
  });

  test('EXECUTOR-RUNNING before the previous close is reported and still starts the session', () => {
    const ctx = { ...CTX, previousSessionClosed: false };
    const r = applyFlag(initialSessionState(ctx), ev('CODEX EXECUTOR RUNNING') as { name: FlagName }, ctx);
    expect([r.state.phase, r.findings.map((f) => f.code)]).toEqual(['executing', ['ORDER_NEXT_SESSION_BEFORE_CLOSE']]);
  });

  test('a DONE without its artifact waits (engine) or fails at once (validate)', () => {
    const upto = replaySession(
      REVIEWED.slice(1, 7).map((s) => ev(s)),
      CTX,
    ).state;
    const done = ev('CLAUDE REVIEWER DONE', { artifactOk: false }) as { name: FlagName; artifactOk: boolean };
    const live = applyFlag(upto, done, CTX);
    expect([live.findings, live.state.reviewers[0]!.phase]).toEqual([[], 'done_pending_artifact']);
    expect(markArtifactPresent(live.state, 'CLAUDE', CTX).reviewers[0]).toMatchObject({
      phase: 'terminal',
      counted: true,
    });
    const final = applyFlag(upto, done, { ...CTX, artifactsFinal: true });
    expect(final.findings.map((f) => f.code)).toEqual(['DONE_WITHOUT_ARTIFACT']);
    expect(final.state.reviewers[0]).toMatchObject({ phase: 'terminal', outcome: 'done', counted: false });
  });

  test("the first version's bare REVIEW_START_TIMEOUT times out every required reviewer not yet started", () => {
    const upto = replaySession(
      REVIEWED.slice(1, 6).map((s) => ev(s)),
      CTX,
    ).state;
    const after = applyRecord(upto, { record: { kind: 'REVIEW_START_TIMEOUT', subject: null } }, CTX).state;
    expect(after.reviewers.map((r) => [r.token, r.phase, r.outcome])).toEqual([
      ['CLAUDE', 'terminal', 'timeout'],
      ['LINT', 'terminal', 'skipped'],
    ]);
    expect(after.phase).toBe('deciding');
  });

  test('original folders: READY without self-review and unknown reviewers only warn', () => {
    const ctx = { ...CTX, mode: 'original' as const };
    const trail = [
      'CODEX EXECUTOR RUNNING',
      'CODEX EXECUTOR DONE',
      'LOOP_STATION SUPERVISOR READY',
      'GEMINI REVIEWER DONE',
      'CLAUDE REVIEWER DONE',
      'record REVIEW_CONSUMED:CLAUDE',
      'record REVIEW_CONSUMED:GEMINI',
      'LOOP_STATION SUPERVISOR DONE',
    ];
    expect(
      codes(
        trail.map((s) => ev(s)),
        ctx,
      ),
    ).toEqual(['warning ORDER_READY_BEFORE_SELF_REVIEW', 'warning FLAG_UNKNOWN_PRODUCER']);
  });

  test('BLOCKED then READY is a withdrawn block', () => {
    const trail = [
      'CODEX EXECUTOR RUNNING',
      'CODEX EXECUTOR DONE',
      'LOOP_STATION SUPERVISOR RUNNING',
      'LOOP_STATION SUPERVISOR BLOCKED',
      'LOOP_STATION SUPERVISOR READY',
    ];
    const r = replaySession(
      trail.map((s) => ev(s)),
      CTX,
    );
    expect([r.findings, r.state.phase]).toEqual([[], 'review']);
  });
});

// ---- properties -------------------------------------------------------------------------------

const reviewersArb = fc.uniqueArray(
  fc.record({ token: fc.constantFrom('CLAUDE', 'LINT', 'GEMINI', 'OUTSIDE'), required: fc.boolean() }),
  { maxLength: 3, selector: (r) => r.token },
);

const toEvent = (s: LifecycleStep): LifecycleEvent => (s.kind === 'flag' ? { name: s.flag } : { record: s.record });

/** A legal trail: random choices among allowedNext, then progress steps until the session is closed. */
function walk(ctx: LifecycleContext, choices: number[]): LifecycleStep[] {
  let state = initialSessionState(ctx);
  const trail: LifecycleStep[] = [];
  // Repeatable noise is capped so walks end; READY after a BLOCKED close (a withdrawn block) is tested by example.
  const noisy = (s: LifecycleStep) =>
    s.kind === 'flag' &&
    ['HEARTBEAT', 'VIOLATION', 'TIMEOUT'].includes(s.flag.status) &&
    (s.flag.role === 'SUPERVISOR' || s.flag.status === 'HEARTBEAT');
  const usable = (s: LifecycleStep) =>
    s.kind === 'record' ||
    (!(s.flag.role === 'SUPERVISOR' && s.flag.status === 'READY' && state.phase === 'closed') &&
      !(noisy(s) && s.flag.occurrence > 2));
  const take = (s: LifecycleStep) => {
    state = (
      s.kind === 'flag' ? applyFlag(state, { name: s.flag }, ctx) : applyRecord(state, { record: s.record }, ctx)
    ).state;
    trail.push(s);
  };
  for (const c of choices) {
    const options = allowedNext(state, ctx).filter(usable);
    if (!options.length) break;
    take(options[c % options.length]!);
  }
  for (let guard = 0; !isSessionClosed(state) && guard < 100; guard++) {
    const progress = allowedNext(state, ctx).filter((s) => usable(s) && !noisy(s));
    take(progress[0]!);
  }
  return trail;
}

const describeStep = (s: LifecycleStep) =>
  s.kind === 'flag' ? formatFlagName(s.flag) : `${s.record.kind}:${s.record.subject}`;

/** Independent statement of §3.2's precedence rules over a whole trail. */
function orderHolds(trail: readonly LifecycleStep[], ctx: LifecycleContext): boolean {
  const flags = trail.map((s, i) => ({ s, i })).filter((x) => x.s.kind === 'flag') as {
    s: { kind: 'flag'; flag: FlagName };
    i: number;
  }[];
  const at = (pred: (f: FlagName) => boolean) => flags.filter((x) => pred(x.s.flag)).map((x) => x.i);
  const one = (pred: (f: FlagName) => boolean) => at(pred)[0];
  const before = (a: number | undefined, b: number | undefined) => a === undefined || b === undefined || a < b;
  const allBefore = (as: number[], b: number | undefined) => as.every((a) => before(a, b));
  const E = ctx.executorToken;
  const S = ctx.supervisorToken;
  const er = one((f) => f.agent === E && f.status === 'RUNNING');
  const et = one((f) => f.agent === E && ['DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT'].includes(f.status));
  const sr = one((f) => f.role === 'SUPERVISOR' && f.status === 'RUNNING');
  const rd = one((f) => f.role === 'SUPERVISOR' && f.status === 'READY');
  const cl = one((f) => f.role === 'SUPERVISOR' && ['DONE', 'BLOCKED', 'ABSTAIN'].includes(f.status));
  const done = one((f) => f.role === 'SUPERVISOR' && f.status === 'DONE');
  const nonStandby = trail
    .map((s, i) => ({ s, i }))
    .filter((x) => !(x.s.kind === 'flag' && x.s.flag.status === 'STANDBY'))
    .map((x) => x.i);
  if (nonStandby.some((i) => i < er!)) return false;
  if (
    !allBefore(
      at((f) => f.agent === E && f.status === 'HEARTBEAT'),
      et,
    )
  )
    return false;
  if (![sr, rd, cl].every((x) => before(et, x)) || !before(sr, rd) || !before(sr, cl) || !before(rd, cl)) return false;
  if (
    !allBefore(
      at((f) => f.agent === S && f.status === 'HEARTBEAT'),
      cl,
    )
  )
    return false;
  const required = ctx.reviewers.filter((r) => r.required).map((r) => r.token);
  const terminalOf = (t: string) =>
    one((f) => f.agent === t && ['DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT'].includes(f.status));
  const gate = rd === undefined ? undefined : Math.max(rd, ...required.map((t) => terminalOf(t) ?? -1));
  for (const r of ctx.reviewers) {
    const mine = at((f) => f.agent === r.token);
    const run = one((f) => f.agent === r.token && f.status === 'RUNNING');
    const term = terminalOf(r.token);
    const cons = trail.findIndex((s) => s.kind === 'record' && s.record.subject === r.token);
    if (!before(rd, run) || !before(rd, term) || (rd === undefined && (run !== undefined || term !== undefined)))
      return false;
    // Only a DONE close ends the review; BLOCKED or ABSTAIN pause for a human (§2.1).
    if (
      !allBefore(
        mine.filter((i) => i !== term),
        term,
      ) ||
      !allBefore(mine, done)
    )
      return false;
    if (cons >= 0 && (!before(term, cons) || !before(cons, done))) return false;
    if (
      !r.required &&
      gate !== undefined &&
      !allBefore(
        mine.filter((i) => i > rd!),
        gate,
      )
    )
      return false;
  }
  let open = 0;
  for (const x of flags) {
    if (x.s.flag.status === 'VIOLATION') open += 1;
    if (x.s.flag.status === 'REPAIRED' && --open < 0) return false;
  }
  return true;
}

describe('lifecycle properties', () => {
  test('no sequence of legal steps produces a finding, and it ends closed', () => {
    fc.assert(
      fc.property(reviewersArb, fc.array(fc.nat(), { maxLength: 40 }), (reviewers, choices) => {
        const ctx = ctxOf(reviewers);
        const trail = walk(ctx, choices);
        expect(orderHolds(trail, ctx)).toBe(true);
        const { state, findings } = replaySession(trail.map(toEvent), ctx, { complete: true });
        expect(findings).toEqual([]);
        expect(isSessionClosed(state)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  test('moving one step earlier is reported exactly when it breaks the §3.2 order', () => {
    const arb = fc
      .tuple(reviewersArb, fc.array(fc.nat(), { maxLength: 40 }), fc.nat(), fc.nat())
      .map(([reviewers, choices, a, b]) => {
        const ctx = ctxOf(reviewers);
        const trail = walk(ctx, choices);
        const j = 1 + (a % (trail.length - 1));
        const i = b % j;
        const moved = [...trail];
        const [step] = moved.splice(j, 1);
        moved.splice(i, 0, step!);
        return { ctx, moved };
      });
    let illegal = 0;
    fc.assert(
      fc.property(arb, ({ ctx, moved }) => {
        const legal = orderHolds(moved, ctx);
        if (!legal) illegal += 1;
        const findings = replaySession(moved.map(toEvent), ctx, { complete: true }).findings;
        expect({ legal, reported: findings.length > 0, trail: moved.map(describeStep) }).toEqual({
          legal,
          reported: !legal,
          trail: moved.map(describeStep),
        });
      }),
      { numRuns: 1500 },
    );
    expect(illegal).toBeGreaterThan(300);
  });
});
