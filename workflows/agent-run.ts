import { condition } from '@temporalio/workflow';
import {
  countStep,
  failureLine,
  failureOf,
  NO_RUNS_YET,
  nextStep,
  type RunCounters,
} from '../protocol/agent-failures.js';
import type { AgentFailure, AgentRunResult } from '../protocol/schemas/agent-result.js';
import type { AgentConfig } from '../protocol/schemas/loop-config.js';
import type { LoopPhase } from '../protocol/schemas/messages.js';
import type { AgentRun } from '../protocol/session-rules.js';
import { waitOutUsageLimit } from './usage-wait.js';

/**
 * One durable path for running an agent, for every role (docs/architecture.md#agent-failures): an
 * attempt, then what its failure calls for, until the run ends. Transient failures are retried
 * after a backoff with jitter (durable timers; the jitter from the workflow's deterministic
 * Math.random), usage limits waited out, a run that needs a human held until `loop-station
 * resume`, a first stall resumed; each following attempt resumes the run's thread. The caller
 * says how to launch, meter, record and wait for a human; what to do is protocol/agent-failures.ts.
 */

export interface RunWait {
  kind: 'retry' | 'usage_wait' | 'stall';
  /** When the wait ends (ISO); null for a stall (resumed at once). */
  until: string | null;
  failure: AgentFailure;
  /** One line for the flag, the record and the ledger. */
  note: string;
}

export interface AgentRunHooks {
  /** Starts one attempt, resuming `thread` when it is not null. */
  launch(thread: string | null): Promise<AgentRun>;
  /** Meters an attempt that ran (each once). */
  meter(run: AgentRunResult): void;
  /** Ends every wait early (a stop now, a closed review gate): the run ends cancelled. */
  interrupted(): boolean;
  /** A usage reset at or after this (epoch ms, workflow time) is not waited for; null: none. */
  usageDeadlineMs(): number | null;
  /** Records a wait or a stall before it begins (a HEARTBEAT flag, the loop's phase and ledger). */
  onWait(wait: RunWait): Promise<void>;
  /** Back at work after a wait. */
  onResume(wait: RunWait['kind'] | 'human'): void;
  /** A run that needs a human: records it and waits for `resume`; true to run again, false when a stop ended the wait. */
  waitForHuman(failure: AgentFailure): Promise<boolean>;
}

/** One role's run as a session step describes it; the session (SessionRun.runDurably) supplies the rest of the hooks. */
export interface DurableRunSpec {
  agent: AgentConfig;
  role: 'EXECUTOR' | 'SUPERVISOR' | 'REVIEWER';
  /** The loop phase the role works in: the status card goes back to it after a wait. */
  phase: LoopPhase;
  /** The `next` of the role's HEARTBEAT flags. */
  next: string[];
  launch(thread: string | null): Promise<AgentRun>;
  /** The thread the first attempt resumes (continuity `thread`), or null. */
  startThread: string | null;
  /** Ends waits early besides a stop now (the review gate closed). */
  ended?: () => boolean;
  /** A usage reset at or after this is not waited for (default: none; the wall-clock timer stops the session). */
  usageDeadlineMs?: () => number | null;
  /** Told when a wait begins and when the run goes back to work. */
  onWait?: (wait: RunWait) => void;
  onResume?: (kind: RunWait['kind'] | 'human') => void;
}

export interface RunPolicy {
  /** Transient retries per run (spec onFailure.retries). */
  retries: number;
  /** The first retry's backoff (spec onFailure.backoff). */
  backoffMs: number;
}

export interface AgentRunOutcome {
  /** The last attempt, or cancelled when a stop (or the closed gate) ended it or a wait. */
  run: AgentRun;
  /** For the run record: each retry, wait, stall and fresh start, in order. */
  notes: string[];
  /** The thread the first attempt resumed, or null. */
  resumed: string | null;
  /** The thread the run ended in: the last attempt's, else the one it resumed. */
  thread: string | null;
  /** The run hit a usage limit whose reset lies past the deadline: it ended without waiting. */
  pastDeadline: boolean;
}

/** Runs an agent until it ends, its failures handled as docs/architecture.md#agent-failures says. */
export async function runAgentDurably(
  hooks: AgentRunHooks,
  policy: RunPolicy,
  startThread: string | null,
): Promise<AgentRunOutcome> {
  let thread = startThread;
  let counters: RunCounters = NO_RUNS_YET;
  const notes: string[] = [];
  const outcome = (run: AgentRun, pastDeadline = false): AgentRunOutcome => ({
    run,
    notes,
    resumed: startThread,
    thread,
    pastDeadline,
  });
  for (;;) {
    const resumedNow = thread;
    const run = await hooks.launch(thread);
    if (run === 'cancelled') return outcome(run);
    hooks.meter(run);
    thread = run.sessionId ?? thread;
    const failure = failureOf(run);
    const step = nextStep({
      failure,
      counters,
      retries: policy.retries,
      backoffMs: policy.backoffMs,
      hasThread: thread !== null,
      resumed: resumedNow !== null,
      // The workflow sandbox seeds Math.random from history: the same jitter on every replay.
      // eslint-disable-next-line no-restricted-properties -- deterministic in a workflow (see above)
      random: Math.random(),
    });
    counters = countStep(counters, step);
    switch (step.next) {
      case 'end':
        if (failure?.kind === 'transient' && policy.retries > 0)
          notes.push(`${failureLine(failure)}: still failing after ${policy.retries} retries`);
        if (failure?.kind === 'stall') notes.push(`${failureLine(failure)}: the run ends as a timeout`);
        return outcome(run);
      case 'retry': {
        const until = new Date(new Date().getTime() + step.delayMs).toISOString();
        const note = `${failureLine(failure!)}: retry ${step.retry} of ${policy.retries} at ${until}`;
        notes.push(note);
        await hooks.onWait({ kind: 'retry', until, failure: failure!, note });
        if (await condition(() => hooks.interrupted(), step.delayMs)) return outcome('cancelled');
        hooks.onResume('retry');
        continue;
      }
      case 'usage_wait': {
        const resumed = await waitOutUsageLimit(run, {
          attempt: step.attempt,
          deadlineMs: hooks.usageDeadlineMs(),
          interrupted: () => hooks.interrupted(),
          onWait: async (until) => {
            const note = `${failureLine(failure!)}: waiting until ${until}`;
            notes.push(note);
            await hooks.onWait({ kind: 'usage_wait', until, failure: failure!, note });
          },
        });
        if (!resumed) {
          if (hooks.interrupted()) return outcome('cancelled');
          notes.push(
            `${failureLine(failure!)}: the reset${run.resetAt ? ` at ${run.resetAt}` : ''} lies past the deadline; not waited for`,
          );
          return outcome(run, true);
        }
        hooks.onResume('usage_wait');
        continue;
      }
      case 'wait_for_human':
        notes.push(`${failureLine(failure!)}${failure!.fix ? `; fix: ${failure!.fix}` : ''}; waiting for resume`);
        if (!(await hooks.waitForHuman(failure!))) return outcome(hooks.interrupted() ? 'cancelled' : run);
        notes.push('resumed after a human fixed it');
        hooks.onResume('human');
        continue;
      case 'resume_stalled': {
        const note = `${failureLine(failure!)}: resuming its thread once`;
        notes.push(note);
        await hooks.onWait({ kind: 'stall', until: null, failure: failure!, note });
        continue;
      }
      case 'fresh_thread':
        notes.push(`${failureLine(failure!)}: starting a fresh thread`);
        thread = null;
        continue;
    }
  }
}
