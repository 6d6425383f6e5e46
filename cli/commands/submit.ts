import { basename } from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { loopWorkflow } from '../../workflows/loop.js';
import { LoopName, LoopPhaseKey, LoopSession } from '../../workflows/search-attributes.js';
import type { ConnectionFlags } from '../../server/connection-options.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { connect, loopId, uiLink } from '../connect.js';
import { ExitCode, ExitError } from '../exit-codes.js';
import type { Output } from '../output.js';
import { loadLoopSpec, SpecError } from '../spec-file.js';
import { checkSpecGlobs } from '../spec-globs.js';
import { followLoop } from './watch.js';

export interface SubmitOptions extends ConnectionFlags {
  file: string;
  id?: string;
  taskQueue?: string;
  root?: string;
  wait?: boolean;
  json?: boolean;
}

export interface SubmitResult {
  workflowId: string;
  runId: string;
  namespace: string;
  root: string;
  ui: string;
  result?: LoopResult;
}

/** Validates a loop spec and its patterns against the root, and starts loopWorkflow `loop-<name>`; nothing starts if either is bad. */
export async function submitCommand(options: SubmitOptions, out: Output): Promise<SubmitResult> {
  const { spec, config } = await loadLoopSpec(options.file, options.root ? { root: options.root } : {});
  const name = basename(options.file);
  const globs = await checkSpecGlobs(config);
  if (globs?.errors.length) throw new SpecError(name, globs.errors.map((e) => `${name}: ${e}`), globs.fix);
  for (const warning of globs?.warnings ?? []) out.log(`warning: ${name}: ${warning}`);
  const workflowId = loopId(options.id ?? spec.name);
  const conn = await connect(options);
  try {
    let handle;
    try {
      handle = await conn.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
        workflowId,
        // The loop workflow may run on any worker of this queue; its agents go where config.taskQueue says.
        taskQueue: options.taskQueue ?? config.taskQueue,
        args: [{ config, localFiles: (options.taskQueue ?? config.taskQueue) === config.taskQueue }],
        memo: { goal: config.goal, metric: config.evidence.metric, direction: config.evidence.direction, root: config.root, sessions: config.budget.sessions },
        typedSearchAttributes: [
          { key: LoopName, value: config.name },
          { key: LoopPhaseKey, value: 'framing' },
          { key: LoopSession, value: 0 },
        ],
        staticSummary: `${config.name}: ${config.goal}`.slice(0, 200),
        workflowIdConflictPolicy: 'FAIL',
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ExitError(ExitCode.failed, `loop ${workflowId} is already running\n  fix: watch it with \`loop-station status ${workflowId}\`, stop it with \`loop-station stop ${workflowId}\`, or submit under another id with --id`);
      }
      throw error;
    }
    const ui = uiLink(conn.address, conn.namespace, workflowId);
    const started: SubmitResult = { workflowId, runId: handle.firstExecutionRunId, namespace: conn.namespace, root: config.root, ui };
    if (!options.json) {
      out.data(`${workflowId}`);
      out.log(`started ${workflowId} (root ${config.root})\n  UI: ${ui}`);
    }
    if (!options.wait) {
      if (options.json) out.json_(started);
      return started;
    }
    const result = await followLoop(conn.client, workflowId, out, { quiet: options.json ?? false });
    if (options.json) out.json_({ ...started, result });
    return { ...started, result };
  } finally {
    await conn.close();
  }
}
