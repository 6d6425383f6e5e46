import { randomUUID } from 'node:crypto';
import type { SetupCheck, SetupProbeResult } from '../protocol/schemas/doctor.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { setupProbeWorkflow } from '../workflows/setup-probe.js';
import type { Connected } from './connect.js';

/**
 * Where the agent checks of `doctor` and `submit` run (docs/agent-setup.md#doctor): on a worker of
 * the loop's task queue when one polls it (a short workflow runs the probe activity there, so the
 * worker's PATH, logins, GPUs and --allow-root are what is checked), else on this machine, with
 * the allowed roots unknown. The probe is worker code: it loads only when it runs here.
 */

export interface AgentSetup extends SetupProbeResult {
  checkedOn: 'worker' | 'here';
}

/** How long a worker gets to answer the probe beyond the evidence command's own limit. */
const PROBE_SLACK_MS = 3 * 60_000;

export async function agentSetupChecks(
  conn: Connected | null,
  config: LoopConfig,
  options: { evidence: boolean; workerPolls: boolean },
): Promise<AgentSetup> {
  if (conn !== null && options.workerPolls) {
    try {
      const result = await conn.client.workflow.execute<typeof setupProbeWorkflow>('setupProbeWorkflow', {
        taskQueue: config.taskQueue,
        workflowId: `loop-station-doctor-${randomUUID()}`,
        args: [{ config, evidence: options.evidence }],
        workflowExecutionTimeout: (options.evidence ? config.evidence.timeoutMs : 0) + PROBE_SLACK_MS,
      });
      return { ...result, checkedOn: 'worker' };
    } catch (error) {
      const message = error instanceof Error ? (error.cause?.toString() ?? error.message) : String(error);
      const check: SetupCheck = {
        id: 'probe',
        status: 'fail',
        message: `no worker of task queue ${config.taskQueue} answered the setup probe: ${message.split('\n')[0]}`,
        fix: 'run the same loop-station version on the worker (`loop-station worker`, `loop-station dev`), then retry',
      };
      return { host: 'unknown', checks: [check], models: [], checkedOn: 'worker' };
    }
  }
  // No worker polls the queue (or no server answers): check this machine instead.
  const { probeSetup } = await import('../activities/setup-probe.js');
  return { ...(await probeSetup({ config, evidence: options.evidence }, null)), checkedOn: 'here' };
}

/** One line per check for people: `fail login CODEX: … \n      fix: …`. */
export function renderChecks(checks: readonly SetupCheck[]): string {
  const mark: Record<SetupCheck['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };
  return checks
    .map((c) => `${mark[c.status]} ${c.id}: ${c.message}${c.fix && c.status !== 'ok' ? `\n       fix: ${c.fix}` : ''}`)
    .join('\n');
}
