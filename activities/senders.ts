import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { SenderRef } from '../protocol/schemas/state.js';

/** Reads who sent the loop's messages from its own history (the activity's workflow run). */
export type SenderReader = (refs: readonly SenderRef[]) => Promise<(string | null)[]>;

/** The longest identity kept: a client chooses its own, and it goes into the ledger. */
const MAX_IDENTITY = 200;

/**
 * A workflow cannot see who sent an update or a signal; its history can: an accepted update's
 * request carries the client's identity (WorkflowExecutionUpdateAccepted), and so does each
 * WorkflowExecutionSignaled. An update is found by its id, a signal by its place among the signals
 * of its name in this run (handlers run in history order).
 */
export function senderReader(client: Client): SenderReader {
  return async (refs) => {
    const execution = Context.current().info.workflowExecution;
    if (!refs.length || !execution) return refs.map(() => null);
    const { workflowId, runId } = execution;
    let events;
    try {
      events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    } catch (error) {
      // Who sent a message is a note in the ledger: without the history the message still counts.
      Context.current().log.warn('could not read the loop history for who sent its messages', {
        error: error instanceof Error ? error.message : String(error),
      });
      return refs.map(() => null);
    }
    const byUpdate = new Map<string, string>();
    const bySignal = new Map<string, string[]>();
    for (const e of events) {
      const accepted = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta;
      if (accepted?.updateId) byUpdate.set(accepted.updateId, accepted.identity ?? '');
      const signaled = e.workflowExecutionSignaledEventAttributes;
      if (signaled?.signalName)
        bySignal.set(signaled.signalName, [...(bySignal.get(signaled.signalName) ?? []), signaled.identity ?? '']);
    }
    return refs.map((ref) => {
      const identity = 'update' in ref ? byUpdate.get(ref.update) : bySignal.get(ref.signal)?.[ref.nth - 1];
      return identity ? identity.replace(/\s+/g, ' ').trim().slice(0, MAX_IDENTITY) : null;
    });
  };
}
