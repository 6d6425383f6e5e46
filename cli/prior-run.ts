import type { LoopResult } from '../protocol/schemas/messages.js';
import type { Connected } from './connect.js';
import { sdk } from './temporal-sdk.js';

/**
 * The latest run of a workflow id, as a person reads it: running, or how it ended (`completed:
 * budget_sessions after 4 sessions`, `failed`); undefined when the id has no run. For messages that
 * must tell "still running" from "ended" from "never was".
 */
export async function priorRun(
  conn: Connected,
  workflowId: string,
): Promise<{ running: true } | { running: false; status: string; ended: string } | undefined> {
  const handle = conn.client.workflow.getHandle(workflowId);
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof sdk().WorkflowNotFoundError) return undefined;
    throw error;
  });
  if (!description) return undefined;
  if (description.status.name === 'RUNNING') return { running: true };
  const status = description.status.name;
  if (status !== 'COMPLETED') return { running: false, status, ended: status.toLowerCase().replace('_', ' ') };
  const result = (await handle.result()) as LoopResult;
  return {
    running: false,
    status,
    ended: `completed: ${result.stopReason} after ${result.sessions} session${result.sessions === 1 ? '' : 's'}`,
  };
}

/** Whether a start under this id is refused: a run is going, or one ended other than failed (the id stays its own). */
export const keepsItsId = (run: Awaited<ReturnType<typeof priorRun>>): boolean =>
  run !== undefined && (run.running || run.status === 'COMPLETED' || run.status === 'CONTINUED_AS_NEW');
