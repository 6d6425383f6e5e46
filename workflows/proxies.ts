import {
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityOptions,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../protocol/failure-types.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';

/**
 * Where each step runs and how it retries. File steps are short and idempotent: local activities
 * (~4 ms) when the loop's agents run on the workflow's own task queue, so the worker that runs the
 * workflow sees the loop root; regular activities on the agents' `.io` queue otherwise, so files
 * are written on the machine that holds them. Agent and evidence runs are regular activities:
 * they need heartbeats, cancellation and a retry after a worker crash.
 */

const retry = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
};

export type FileSteps = Pick<
  Activities,
  | 'lockFrame'
  | 'recordBaseline'
  | 'openSession'
  | 'emitFlag'
  | 'inspectExecutor'
  | 'writeEvidencePack'
  | 'writeSelfReview'
  | 'inspectReview'
  | 'readExternalFlags'
  | 'checkWorkspace'
  | 'restore'
  | 'readAgentDecision'
  | 'closeSession'
  | 'fileBatch'
  | 'finishLoop'
  | 'recordIntervention'
  | 'notify'
>;

const ioQueue = (taskQueue: string) => `${taskQueue}.io`;

/**
 * `local`: the workflow runs on the agents' task queue (the usual single-queue setup). It comes from
 * the workflow input, not workflowInfo(): a replay runs on a queue of its own and must take the same
 * path the recorded run took.
 */
export function fileSteps(config: LoopConfig, local: boolean): FileSteps {
  if (local) {
    const options: LocalActivityOptions = { startToCloseTimeout: '2m', retry: { ...retry, maximumAttempts: 10 } };
    return proxyLocalActivities<FileSteps>(options);
  }
  const options: ActivityOptions = {
    taskQueue: ioQueue(config.taskQueue),
    startToCloseTimeout: '2m',
    retry: { ...retry, maximumAttempts: 10 },
  };
  return proxyActivities<FileSteps>(options);
}

/**
 * File steps as regular activities even when the loop runs locally. For the write that ends a
 * workflow (SUPERVISOR-DONE): a local activity's effects are recorded only when its workflow task
 * completes, and a signal arriving meanwhile voids a completing task, so the task would run again,
 * maybe deciding otherwise; a regular activity is recorded before the workflow completes. And for
 * the ledger write that reads who sent a message from history: an accepted update is written there
 * when the task that accepted it completes, before a regular activity starts. On the workflow's
 * own queue it is eagerly dispatched (~35–50 ms).
 */
export function durableFileSteps(
  config: LoopConfig,
  local: boolean,
): Pick<FileSteps, 'emitFlag' | 'recordIntervention'> {
  return proxyActivities<Pick<FileSteps, 'emitFlag' | 'recordIntervention'>>({
    taskQueue: local ? config.taskQueue : ioQueue(config.taskQueue),
    startToCloseTimeout: '2m',
    retry: { ...retry, maximumAttempts: 10 },
  });
}

/** Margin beyond an agent's own time limit: the activity kills the run itself and reports TIMEOUT. */
const KILL_MARGIN_MS = 2 * 60_000;
/** A worker that died is noticed after this long without a heartbeat; the run is retried elsewhere. */
export const AGENT_HEARTBEAT_TIMEOUT = '15s';

export function agentRunOptions(config: LoopConfig, timeoutMs: number | null, summary: string): ActivityOptions {
  return {
    taskQueue: config.taskQueue,
    startToCloseTimeout: (timeoutMs ?? 7 * 24 * 3600_000) + KILL_MARGIN_MS,
    heartbeatTimeout: AGENT_HEARTBEAT_TIMEOUT,
    retry: { ...retry, maximumAttempts: 3 },
    summary,
  };
}

export function agentSteps(
  config: LoopConfig,
): ActivityInterfaceFor<Pick<Activities, 'runAgent' | 'runEvidence' | 'checkCodeVariant'>> {
  return proxyActivities<Pick<Activities, 'runAgent' | 'runEvidence' | 'checkCodeVariant'>>(
    agentRunOptions(config, null, 'agent run'),
  );
}

export function watcherSteps(config: LoopConfig): Pick<Activities, 'watchFlags'> {
  return proxyActivities<Pick<Activities, 'watchFlags'>>({
    taskQueue: ioQueue(config.taskQueue),
    startToCloseTimeout: '30d',
    heartbeatTimeout: '30s',
    retry,
  });
}

/**
 * stop --now's direct path (activities/stop-runs.ts): one quick try, where the agents run. It only
 * shortens the stop; the session's cancel ends the runs anyway, so a failure is no loss.
 */
export function runStoppers(config: LoopConfig, local: boolean): Pick<Activities, 'stopRunsNow'> {
  const options = { startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } };
  return local
    ? proxyLocalActivities<Pick<Activities, 'stopRunsNow'>>(options)
    : proxyActivities<Pick<Activities, 'stopRunsNow'>>({ ...options, taskQueue: ioQueue(config.taskQueue) });
}

/** Notifications: a few quick tries, then the workflow records the failure and goes on. */
export function notifySteps(local: boolean, config: LoopConfig): Pick<FileSteps, 'notify'> {
  const options = { startToCloseTimeout: '30s', retry: { ...retry, maximumAttempts: 3 } };
  return local
    ? proxyLocalActivities<Pick<FileSteps, 'notify'>>(options)
    : proxyActivities<Pick<FileSteps, 'notify'>>({ ...options, taskQueue: ioQueue(config.taskQueue) });
}
