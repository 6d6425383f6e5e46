import type { AgentFailure, AgentRunResult } from './schemas/agent-result.js';
import type { LoopConfig } from './schemas/loop-config.js';
import type { ExecutorOutcome } from './schemas/state.js';

/**
 * What the workflow does after an agent run, as pure functions (docs/architecture.md#agent-failures):
 * which failure a result carries, what comes next for it (retry after a backoff, wait for a usage
 * reset, wait for a human, resume a stalled thread once, or end), and the loop's circuit breaker.
 * The workflow keeps the counters and the timers; these functions only decide.
 */

/** What the loop does about failed agent runs, with the defaults a config written before these fields gets. */
export interface FailurePolicy {
  onFailure: NonNullable<LoopConfig['onFailure']>;
  askTimeout: NonNullable<LoopConfig['askTimeout']> | null;
  promoteUnreviewed: boolean;
}

/**
 * The failure policy of a config: its own fields, or for a config written before them the
 * behaviour runs had then (no ask timeout, unreviewed promotions allowed, the spec's defaults).
 */
export function failurePolicy(config: LoopConfig): FailurePolicy {
  return {
    onFailure: config.onFailure ?? { consecutive: 3, action: 'pause', retries: 4, backoffMs: 30_000 },
    askTimeout: config.askTimeout ?? null,
    promoteUnreviewed: config.promoteUnreviewed ?? true,
  };
}

/** Failure codes after which a run resumed in a thread starts once more in a fresh one. */
export const FRESH_THREAD_CODES: readonly string[] = ['context_full', 'thread_not_found'];

/**
 * The failure the workflow acts on: the adapter's classification, or for a result without one
 * (runs recorded before it, adapters that do not classify) what its status says. Only a usage
 * limit is read from the status; any other unclassified failure is the agent's own.
 */
export function failureOf(run: AgentRunResult): AgentFailure | null {
  if (run.failure) return run.failure;
  if (run.status === 'usage_limit')
    return { kind: 'usage_limit', code: 'usage_limit', message: run.reason ?? 'usage limit reached', fix: null };
  return null;
}

/** What a run has been through in one session so far. */
export interface RunCounters {
  /** Transient retries taken. */
  retries: number;
  /** Usage-limit waits taken. */
  usageWaits: number;
  /** Stalls met. */
  stalls: number;
  /** A fresh thread was started after a resumed one could not continue. */
  freshStarted: boolean;
}

export const NO_RUNS_YET: RunCounters = { retries: 0, usageWaits: 0, stalls: 0, freshStarted: false };

/** What happens after one attempt of a run. */
export type NextStep =
  | { next: 'end' }
  /** A transient failure: run again after `delayMs`, in the same thread. */
  | { next: 'retry'; delayMs: number; retry: number }
  /** A usage limit: wait for the reset (attempt: waits so far, for the backoff without a reset time). */
  | { next: 'usage_wait'; attempt: number }
  /** Needs a human's fix: wait for `loop-station resume`, then run again. */
  | { next: 'wait_for_human' }
  /** A first stall: run again, resuming the thread. */
  | { next: 'resume_stalled' }
  /** The resumed thread is full or gone: run again in a fresh thread. */
  | { next: 'fresh_thread' };

export interface PolicyInput {
  failure: AgentFailure | null;
  counters: RunCounters;
  /** Transient retries allowed per run (spec onFailure.retries). */
  retries: number;
  /** The first retry's backoff (spec onFailure.backoff). */
  backoffMs: number;
  /** The run had a thread to resume (a stalled run without one is not resumed). */
  hasThread: boolean;
  /** The attempt was started in a resumed thread. */
  resumed: boolean;
  /** A number in [0, 1): the workflow's deterministic Math.random(), for the jitter. */
  random: number;
}

/** Decides what comes after an attempt; the caller updates its counters by the step taken. */
export function nextStep(p: PolicyInput): NextStep {
  const f = p.failure;
  if (!f) return { next: 'end' };
  if (p.resumed && !p.counters.freshStarted && FRESH_THREAD_CODES.includes(f.code)) return { next: 'fresh_thread' };
  switch (f.kind) {
    case 'transient':
      if (p.counters.retries >= p.retries) return { next: 'end' };
      return {
        next: 'retry',
        retry: p.counters.retries + 1,
        delayMs: retryDelayMs(p.backoffMs, p.counters.retries + 1, p.random),
      };
    case 'usage_limit':
      return { next: 'usage_wait', attempt: p.counters.usageWaits + 1 };
    case 'needs_human':
      return { next: 'wait_for_human' };
    case 'stall':
      return p.hasThread && p.counters.stalls === 0 ? { next: 'resume_stalled' } : { next: 'end' };
    default:
      return { next: 'end' };
  }
}

/** The counters after a step. */
export function countStep(counters: RunCounters, step: NextStep): RunCounters {
  switch (step.next) {
    case 'retry':
      return { ...counters, retries: counters.retries + 1 };
    case 'usage_wait':
      return { ...counters, usageWaits: counters.usageWaits + 1 };
    case 'resume_stalled':
      return { ...counters, stalls: counters.stalls + 1 };
    case 'fresh_thread':
      return { ...counters, freshStarted: true };
    default:
      return counters;
  }
}

/**
 * The wait before retry `n` (1-based): `base · 2^(n−1)`, half of it fixed and half random ("equal
 * jitter"), so runs that failed together do not retry together, and the wait never drops below half.
 */
export function retryDelayMs(baseMs: number, n: number, random: number): number {
  const full = baseMs * 2 ** Math.max(0, n - 1);
  return Math.round(full / 2 + (full / 2) * Math.min(Math.max(random, 0), 1));
}

/** One line for people: what the failure is (`transient failure (overloaded): the API is at capacity`). */
export function failureLine(f: AgentFailure): string {
  const what: Record<AgentFailure['kind'], string> = {
    transient: 'transient failure',
    usage_limit: 'usage limit',
    needs_human: 'needs a human',
    stall: 'stall',
    budget: 'budget reached',
    agent: 'agent failure',
  };
  return `${what[f.kind]} (${f.code})${f.message ? `: ${f.message}` : ''}`;
}

/** The loop's circuit breaker: how many sessions in a row ended the same failed way. */
export interface BreakerState {
  /** What the last session's failure was (null: it did not fail). */
  signature: string | null;
  count: number;
}

export const BREAKER_CLOSED: BreakerState = { signature: null, count: 0 };

/**
 * How a session's executor failed, for the breaker: BLOCKED or TIMEOUT, by the run's failure code
 * when it has one, else by the reason; null when it did not fail that way, or a stop cancelled it.
 */
export function sessionFailure(executor: Pick<ExecutorOutcome, 'status' | 'reason' | 'failure'>): string | null {
  if (executor.status !== 'BLOCKED' && executor.status !== 'TIMEOUT') return null;
  if (executor.reason?.startsWith('cancelled:')) return null;
  return `${executor.status} ${executor.failure?.code ?? executor.reason ?? 'no reason given'}`;
}

/** The breaker after a session; `trips` when `consecutive` sessions in a row failed the same way. */
export function advanceBreaker(
  state: BreakerState,
  failure: string | null,
  consecutive: number,
): { state: BreakerState; trips: boolean } {
  if (failure === null) return { state: BREAKER_CLOSED, trips: false };
  const count = state.signature === failure ? state.count + 1 : 1;
  return { state: { signature: failure, count }, trips: count >= consecutive };
}
