import { describe, expect, test } from 'vitest';
import {
  advanceBreaker,
  BREAKER_CLOSED,
  countStep,
  failureOf,
  failurePolicy,
  NO_RUNS_YET,
  nextStep,
  type PolicyInput,
  retryDelayMs,
  sessionFailure,
} from './agent-failures.js';
import { type AgentFailure, type AgentRunResult, ZERO_USAGE } from './schemas/agent-result.js';
import type { LoopConfig } from './schemas/loop-config.js';

const run = (over: Partial<AgentRunResult> = {}): AgentRunResult => ({
  status: 'exited',
  exitCode: 0,
  signal: null,
  durationMs: 1,
  reason: null,
  stdoutTail: '',
  stderrTail: '',
  logPath: null,
  usage: ZERO_USAGE,
  sessionId: null,
  finalMessage: null,
  resetAt: null,
  ...over,
});
const failure = (kind: AgentFailure['kind'], code: string = kind): AgentFailure => ({
  kind,
  code,
  message: 'm',
  fix: null,
});
const input = (over: Partial<PolicyInput>): PolicyInput => ({
  failure: null,
  counters: NO_RUNS_YET,
  retries: 4,
  backoffMs: 1000,
  hasThread: true,
  resumed: false,
  random: 0.5,
  ...over,
});

describe('failureOf: the failure the workflow acts on', () => {
  test("the adapter's classification wins; a result without one reads only a usage limit from its status", () => {
    expect(failureOf(run({ failure: failure('transient', 'overloaded') }))?.code).toBe('overloaded');
    expect(failureOf(run({ status: 'usage_limit', reason: 'limit' }))).toEqual({
      kind: 'usage_limit',
      code: 'usage_limit',
      message: 'limit',
      fix: null,
    });
    // Unclassified CLI trouble keeps its old meaning (a fatal run), not a human pause.
    expect(failureOf(run({ status: 'auth_missing' }))).toBeNull();
    expect(failureOf(run({ status: 'exited', exitCode: 1 }))).toBeNull();
  });
});

describe('nextStep: what comes after one attempt', () => {
  test.for<[string, Partial<PolicyInput>, string]>([
    ['a run that did its task ends', {}, 'end'],
    ['an agent failure ends', { failure: failure('agent') }, 'end'],
    ['a budget failure ends (the session stops the loop)', { failure: failure('budget', 'budget_tokens') }, 'end'],
    ['a transient failure is retried', { failure: failure('transient') }, 'retry 1'],
    [
      'a transient failure after the last retry ends',
      { failure: failure('transient'), counters: { ...NO_RUNS_YET, retries: 4 } },
      'end',
    ],
    ['no retries allowed: it ends at once', { failure: failure('transient'), retries: 0 }, 'end'],
    [
      'a usage limit waits, counting its waits',
      { failure: failure('usage_limit'), counters: { ...NO_RUNS_YET, usageWaits: 2 } },
      'usage_wait 3',
    ],
    ['needs a human: waits for resume', { failure: failure('needs_human', 'insufficient_quota') }, 'wait_for_human'],
    ['a first stall with a thread is resumed', { failure: failure('stall') }, 'resume_stalled'],
    ['a first stall without a thread ends', { failure: failure('stall'), hasThread: false }, 'end'],
    ['a second stall ends', { failure: failure('stall'), counters: { ...NO_RUNS_YET, stalls: 1 } }, 'end'],
    [
      'a resumed thread that is full starts fresh once',
      { failure: failure('agent', 'context_full'), resumed: true },
      'fresh_thread',
    ],
    [
      'a resumed thread the CLI no longer knows starts fresh once',
      { failure: failure('agent', 'thread_not_found'), resumed: true },
      'fresh_thread',
    ],
    [
      'only once',
      { failure: failure('agent', 'context_full'), resumed: true, counters: { ...NO_RUNS_YET, freshStarted: true } },
      'end',
    ],
    ['a fresh run with a full context just ends', { failure: failure('agent', 'context_full') }, 'end'],
  ])('%s', ([, over, expected]) => {
    const step = nextStep(input(over));
    const text =
      step.next === 'retry'
        ? `retry ${step.retry}`
        : step.next === 'usage_wait'
          ? `usage_wait ${step.attempt}`
          : step.next;
    expect(text).toBe(expected);
  });

  test('counters follow the steps taken, so retries and stalls stay bounded', () => {
    let counters = NO_RUNS_YET;
    const steps: string[] = [];
    for (let i = 0; i < 6; i++) {
      const step = nextStep(input({ failure: failure('transient'), counters, retries: 3 }));
      steps.push(step.next);
      counters = countStep(counters, step);
    }
    expect(steps).toEqual(['retry', 'retry', 'retry', 'end', 'end', 'end']);
    const stalled = countStep(NO_RUNS_YET, { next: 'resume_stalled' });
    expect(nextStep(input({ failure: failure('stall'), counters: stalled })).next).toBe('end');
  });
});

describe('retryDelayMs: exponential backoff with equal jitter', () => {
  test('doubles per retry; the jitter moves it between half and all of it', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(1000, n, 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(1000, n, 0))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(1000, 3, 0.25)).toBe(2500);
    // A random outside [0, 1] is clamped: the wait stays within its bounds.
    expect([retryDelayMs(1000, 1, -1), retryDelayMs(1000, 1, 7)]).toEqual([500, 1000]);
  });
});

describe('the circuit breaker', () => {
  const executor = (status: 'DONE' | 'BLOCKED' | 'TIMEOUT' | 'ABSTAIN', reason: string | null, code?: string) => ({
    status,
    reason,
    ...(code ? { failure: { kind: 'agent', code } } : {}),
  });

  test('a session fails by its failure code when it has one, else by its reason; a stop or a success is no failure', () => {
    expect(sessionFailure(executor('BLOCKED', 'transient failure (overloaded): x', 'overloaded'))).toBe(
      'BLOCKED overloaded',
    );
    expect(sessionFailure(executor('TIMEOUT', 'stall: quiet', 'stall'))).toBe('TIMEOUT stall');
    expect(sessionFailure(executor('BLOCKED', 'exited with code 3'))).toBe('BLOCKED exited with code 3');
    expect(sessionFailure(executor('BLOCKED', 'cancelled: user_stop'))).toBeNull();
    expect(sessionFailure(executor('DONE', null))).toBeNull();
    expect(sessionFailure(executor('ABSTAIN', 'executor report says ABSTAIN'))).toBeNull();
  });

  test('trips after N sessions in a row that failed the same way; another failure or a success starts over', () => {
    const trail = ['BLOCKED a', 'BLOCKED a', 'BLOCKED b', 'BLOCKED b', null, 'BLOCKED b', 'BLOCKED b', 'BLOCKED b'];
    let state = BREAKER_CLOSED;
    const trips: boolean[] = [];
    for (const f of trail) {
      const next = advanceBreaker(state, f, 3);
      state = next.state;
      trips.push(next.trips);
    }
    expect(trips).toEqual([false, false, false, false, false, false, false, true]);
    expect(state).toEqual({ signature: 'BLOCKED b', count: 3 });
  });
});

describe('failurePolicy', () => {
  test('a config written before the fields gets the behaviour of its time: no ask timeout, unreviewed promotions allowed', () => {
    const old = {} as LoopConfig;
    expect(failurePolicy(old)).toEqual({
      onFailure: { consecutive: 3, action: 'pause', retries: 4, backoffMs: 30_000 },
      askTimeout: null,
      promoteUnreviewed: true,
    });
    const now = {
      onFailure: { consecutive: 2, action: 'stop', retries: 1, backoffMs: 5 },
      askTimeout: { afterMs: 60_000, then: 'stop' },
      promoteUnreviewed: false,
    } as LoopConfig;
    expect(failurePolicy(now)).toEqual({
      onFailure: now.onFailure,
      askTimeout: now.askTimeout,
      promoteUnreviewed: false,
    });
  });
});
