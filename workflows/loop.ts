import { makeContinueAsNewFunc, workflowInfo } from '@temporalio/workflow';
import type { LoopResult } from '../protocol/schemas/messages.js';
import { registerLoopMessages } from './loop-messages.js';
import { LoopRun } from './loop-run.js';
import type { LoopInput } from './loop-state.js';

/**
 * One loop: frame lock, then numbered sessions as child workflows, one at a time, with budgets,
 * human messages and approvals handled at the boundary between sessions. State and steps live in
 * LoopRun (loop-run.ts), message handlers in one table (loop-messages.ts).
 */
export async function loopWorkflow(input: LoopInput): Promise<LoopResult> {
  const loop = new LoopRun(input);
  // Handlers are installed before the first await (an update arriving earlier would be rejected).
  registerLoopMessages(loop);
  loop.refresh();
  if (!input.carry) {
    // A failed baseline may end the loop before its first session (onFailure.action: stop).
    const ended = await loop.lockFrame();
    if (ended) return loop.finish(ended);
  }
  for (;;) {
    const ended = await loop.atBoundary();
    if (ended) return loop.finish(ended);
    const after = await loop.runSession();
    if (after.next === 'finish') return loop.finish(after.reason);
    if (after.next === 'continue-as-new') {
      const next = await loop.carryOver();
      return makeContinueAsNewFunc<typeof loopWorkflow>({ memo: workflowInfo().memo })(next);
    }
  }
}
