import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { sdk } from '../temporal-sdk.js';
import type { loopWorkflow } from '../../workflows/loop.js';
import type { ConnectionFlags } from '../../server/connection-options.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import {
  type Connected,
  cliCommand,
  connect,
  connectionArgs,
  isLocalAddress,
  loopId,
  uiLine,
  uiLink,
} from '../connect.js';
import { checkReadiness, missingSearchAttributes } from '../readiness.js';
import { agentSetupChecks, renderChecks } from '../setup-checks.js';
import type { LoopConfig } from '../../protocol/schemas/loop-config.js';
import type { SetupCheck } from '../../protocol/schemas/doctor.js';
import { sandboxCheck } from '../../protocol/setup-checks.js';
import { ExitCode, ExitError, REGISTER_ATTRIBUTES_FIX } from '../exit-codes.js';
import { DEFAULTS } from '../../server/defaults.js';
import { emit, type Output } from '../output.js';
import { loadLoopSpec, SpecError } from '../spec-file.js';
import { checkSpecGlobs, loopInRoot } from '../spec-globs.js';
import { priorRun } from '../prior-run.js';
import { loopStartOptions } from '../loop-start.js';
import { failIfFailedEnding, followLoop, logEnding } from './watch.js';

export interface SubmitOptions extends ConnectionFlags {
  file: string;
  id?: string | undefined;
  taskQueue?: string | undefined;
  root?: string | undefined;
  wait?: boolean;
  /** Start without the setup checks (doctor's agent checks for this spec). */
  skipChecks?: boolean;
}

export interface SubmitResult {
  workflowId: string;
  runId: string;
  namespace: string;
  root: string;
  ui: string;
  result?: LoopResult;
}

/** How long a submit to a server on this machine waits for a starting `loop-station dev`'s search attributes. */
const LOCAL_ATTRIBUTES_WAIT_MS = 15_000;

/**
 * A `loop-station dev` registers the search attributes a moment after its server answers; a script
 * that submits as soon as the port is open would fail the start. On a local server, wait for them
 * briefly instead; elsewhere they are the operator's job and the start's error names them.
 */
async function awaitSearchAttributes(conn: Connected, out: Output): Promise<void> {
  let missing = await missingSearchAttributes(conn.connection, conn.namespace);
  if (missing.length === 0) return;
  out.log(
    `waiting up to ${LOCAL_ATTRIBUTES_WAIT_MS / 1000} s for the search attributes ${missing.join(', ')} ` +
      '(is loop-station dev starting?)',
  );
  const deadline = Date.now() + LOCAL_ATTRIBUTES_WAIT_MS;
  while (missing.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    missing = await missingSearchAttributes(conn.connection, conn.namespace);
  }
  if (missing.length > 0) {
    throw new ExitError(
      ExitCode.failed,
      `namespace ${conn.namespace} at ${conn.address} lacks the search attributes ${missing.join(', ')}: ` +
        `no loop can start there\n${REGISTER_ATTRIBUTES_FIX}`,
    );
  }
}

/**
 * The checks `doctor --spec` makes of the agents, before anything starts (docs/agent-setup.md#doctor):
 * the Codex sandbox against the loop's GPU needs, and on a worker of the loop's task queue its
 * allowed roots, the agent CLIs and their versions, logins and GPUs. The evidence command is not
 * run here: the frame lock's baseline runs it. With no worker polling the queue the worker-side
 * checks wait for one (the loop waits too): this machine may not be where the agents run.
 */
async function setupChecks(conn: Connected, config: LoopConfig, out: Output): Promise<void> {
  const checks: SetupCheck[] = [];
  const sandbox = sandboxCheck(config);
  if (sandbox) checks.push(sandbox);
  const ready = await checkReadiness(conn.connection, {
    address: conn.address,
    namespace: conn.namespace,
    taskQueue: config.taskQueue,
  });
  const polls = (ready.workflowPollers ?? 0) > 0;
  if (polls) {
    const agents = await agentSetupChecks(conn, config, { evidence: false, workerPolls: true });
    checks.push(...agents.checks);
  } else if (ready.missingSearchAttributes.length === 0) {
    // (Without the search attributes nothing starts: the start's own error says how to register them.)
    out.log(
      `warning: no worker polls task queue ${config.taskQueue} yet: its agents are checked when you run ` +
        `\`loop-station doctor --spec <spec>\` with one up; the loop waits for a worker`,
    );
  }
  for (const c of checks.filter((c) => c.status === 'warn')) out.log(`warning: ${c.id}: ${c.message}\n  fix: ${c.fix}`);
  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.length > 0) {
    throw new ExitError(
      ExitCode.failed,
      `${failed.length} setup check${failed.length > 1 ? 's' : ''} failed; nothing was started:\n` +
        `${renderChecks(failed)}\n  fix: fix each as said above, or pass --skip-checks to start anyway`,
    );
  }
}

/**
 * Validates a loop spec and its patterns against the root, checks its setup (setupChecks), and
 * starts loopWorkflow `loop-<name>`; nothing starts if any is bad.
 */
export async function submitCommand(options: SubmitOptions, out: Output): Promise<SubmitResult> {
  const { spec, config, warnings } = await loadLoopSpec(options.file, options.root ? { root: options.root } : {});
  const name = basename(options.file);
  for (const w of warnings) out.log(`warning: ${name}: ${w.message}\n  fix: ${w.fix}`);
  const globs = await checkSpecGlobs(config);
  // The spec is well formed but the root refuses it (docs/patterns.md): a failure, not a usage error.
  if (globs?.errors.length) {
    throw new SpecError(
      name,
      globs.errors.map((e) => `${name}: ${e}`),
      globs.fix,
      ExitCode.failed,
    );
  }
  for (const warning of globs?.warnings ?? []) out.log(`warning: ${name}: ${warning}`);
  const workflowId = loopId(options.id ?? spec.name);
  // The same id is the server's to answer (still running, or ended and keeping its id).
  const holder = globs === null ? null : await loopInRoot(config.root);
  if (holder !== null && holder !== workflowId)
    throw new ExitError(
      ExitCode.failed,
      `${name}: root ${config.root} already holds loop ${holder} (loop_station/contract.json): every loop needs ` +
        'a root of its own, and a finished one is never written over\n' +
        `  fix: give a new folder (the spec's root or --root), or continue that loop with ` +
        `\`${cliCommand(`fork ${holder} --from-session N`, connectionArgs(options))}\`; nothing was started`,
    );
  if (globs === null) {
    // The root may live on the worker's machine only; say that its checks moved there.
    const here = await stat(config.root).then(
      () => 'not a folder',
      () => 'missing',
    );
    out.log(
      `warning: ${name}: root ${config.root} is ${here} on this machine: its patterns are checked on the ` +
        "worker when the frame locks (check the spec's root if the worker runs here)",
    );
  }
  const conn = await connect(options);
  try {
    // `loop-station dev` registers them on its namespace only; elsewhere the start's error names them.
    if (isLocalAddress(conn.host) && conn.namespace === DEFAULTS.namespace) await awaitSearchAttributes(conn, out);
    if (!options.skipChecks) await setupChecks(conn, config, out);
    let handle;
    try {
      // The loop workflow may run on any worker of this queue; its agents go where config.taskQueue says.
      const taskQueue = options.taskQueue ?? config.taskQueue;
      handle = await conn.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
        ...loopStartOptions(config, {
          workflowId,
          taskQueue,
          localFiles: taskQueue === config.taskQueue,
          summary: `${config.name}: ${config.goal}`,
        }),
        workflowIdConflictPolicy: 'FAIL',
      });
    } catch (error) {
      if (error instanceof sdk().WorkflowExecutionAlreadyStartedError) {
        const prior = await priorRun(conn, workflowId).catch(() => undefined);
        if (prior && !prior.running)
          throw new ExitError(
            ExitCode.failed,
            `loop ${workflowId} already ran (${prior.ended}): an ended loop keeps its id, its history and its ` +
              `status\n  fix: submit under another id with --id (and a new root), or continue it with ` +
              `\`${conn.cli(`fork ${workflowId} --from-session N`)}\`; nothing was started`,
          );
        throw new ExitError(
          ExitCode.failed,
          `loop ${workflowId} is already running\n` +
            `  fix: watch it with \`${conn.cli(`status ${workflowId}`)}\`, stop it with ` +
            `\`${conn.cli(`stop ${workflowId}`)}\`, or submit under another id with --id`,
        );
      }
      throw error;
    }
    const ui = uiLink(conn.address, conn.namespace, workflowId);
    const started: SubmitResult = {
      workflowId,
      runId: handle.firstExecutionRunId,
      namespace: conn.namespace,
      root: config.root,
      ui,
    };
    if (!out.json) {
      out.data(`${workflowId}`);
      out.log(`started ${workflowId} (root ${config.root})\n  ${await uiLine(conn, ui)}`);
    }
    if (!options.wait) return emit(out, started);
    const result = await followLoop(conn.client, workflowId, out, { quiet: out.json });
    logEnding(out, result);
    emit(out, { ...started, result });
    failIfFailedEnding(result);
    return { ...started, result };
  } finally {
    await conn.close();
  }
}
