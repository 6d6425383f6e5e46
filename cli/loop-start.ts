import type { WorkflowStartOptions } from '@temporalio/client';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { LoopName, LoopPhaseKey, LoopSession } from '../workflows/search-attributes.js';

/**
 * The options every start of a loop workflow carries (submit, demo): its input, the memo and the
 * search attributes that `list`, the dashboard and the Temporal UI read before the loop answers queries.
 */
export function loopStartOptions(
  config: LoopConfig,
  start: { workflowId: string; taskQueue: string; summary: string; localFiles?: boolean },
): WorkflowStartOptions<typeof loopWorkflow> {
  return {
    workflowId: start.workflowId,
    taskQueue: start.taskQueue,
    args: [{ config, ...(start.localFiles === undefined ? {} : { localFiles: start.localFiles }) }],
    memo: {
      goal: config.goal,
      metric: config.evidence.metric,
      direction: config.evidence.direction,
      root: config.root,
      sessions: config.budget.sessions,
    },
    typedSearchAttributes: [
      { key: LoopName, value: config.name },
      { key: LoopPhaseKey, value: 'framing' },
      { key: LoopSession, value: 0 },
    ],
    staticSummary: start.summary.slice(0, 200),
    // An ended loop keeps its id, history and status: a new one needs a new id; a failed one may be retried.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  };
}
