import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SetupProbeResult } from '../protocol/schemas/doctor.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';

export interface SetupProbeWorkflowInput {
  config: LoopConfig;
  evidence: boolean;
}

/**
 * `loop-station doctor` and `submit` ask a worker of the loop's task queue to check its machine
 * (activities/setup-probe.ts): its PATH, logins, GPUs and allowed roots are what the loop will
 * get. The probe runs on the queue's `.io` side, which agent runs never fill up; one attempt, so a
 * broken setup is reported, not retried.
 */
export async function setupProbeWorkflow(input: SetupProbeWorkflowInput): Promise<SetupProbeResult> {
  const { probeSetup } = proxyActivities<Pick<Activities, 'probeSetup'>>({
    taskQueue: `${input.config.taskQueue}.io`,
    startToCloseTimeout: input.config.evidence.timeoutMs + 5 * 60_000,
    retry: { maximumAttempts: 1 },
  });
  return probeSetup({ config: input.config, evidence: input.evidence });
}
