import { patched } from '@temporalio/workflow';

/**
 * `patched()` markers for changed workflow logic (docs/architecture.md#patching). Each is asked once, at
 * the top of a workflow, so a run decides its version in its first activation and keeps it: runs
 * recorded before a change replay exactly as they ran (test/histories/), new runs take the change.
 *
 * `fixes-2026-12`, in the loop:
 * - a malformed externalFlag signal is recorded as rejected instead of reaching the session;
 * - a stop signal without a payload means `{mode: after-session}`;
 * - a budget raised while a session runs reaches it (its wall-clock timer and its decision);
 * - a promote waiting for approval becomes the best only when approved;
 * - notifications are sent before continue-as-new, and their failures carried over.
 * In the session:
 * - the budget stop of rule 1 is not handed to an agent supervisor (docs/protocol.md#agent-supervisor);
 * - a restore that does not verify stops the loop with protocol_violation (§9);
 * - a success ask at every promotion that meets the criteria;
 * - an optional reviewer cancelled when the gate closes gets its REVIEW_SKIPPED record, no flag;
 * - reviewers' usage-limit waits show in the loop's phase.
 */
export function fixes202612(): boolean {
  return patched('fixes-2026-12');
}
