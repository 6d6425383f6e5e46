import { preemptRuns } from './agents/launch.js';

export interface StopRunsNowInput {
  root: string;
  /** The session workflow whose runs end (the loop's running child). */
  workflowId: string;
}

/**
 * `stop --now`'s direct path (docs/operations.md#stop): the loop, as it takes the stop, ends the
 * process trees its session's runs have in this worker at once, without waiting for the cancel to
 * travel through the session and back in a heartbeat's response; it returns once they are gone, so
 * the loop (which lets its handlers finish before it ends) never reports a stop while a tree it
 * reached still runs. The runs' activities then end as a cancel ends them. Runs in other worker
 * processes are left to the cancel.
 */
export async function stopRunsNow(input: StopRunsNowInput): Promise<{ reached: number }> {
  return { reached: await preemptRuns(input.workflowId) };
}
