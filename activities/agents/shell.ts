import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { AGENT_FAILURE_KINDS, type AgentFailure, type AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { resolveInRoot } from '../paths.js';
import {
  cliEnvironment,
  finishRun,
  launchedResult,
  prepareCliRun,
  priorAgentRun,
  runWatch,
  separateLogs,
} from './cli-run.js';
import { failure, oneLine } from './failures.js';
import { heartbeats } from './heartbeat.js';
import { launch } from './launch.js';
import type { RunAgentInput } from './run-agent.js';

/**
 * What a shell agent may say about its own failure (docs/architecture.md#agent-failures): a JSON
 * object in the file LOOP_STATION_FAILURE_FILE names. Without it the exit code decides: 0 is
 * success, 75 (EX_TEMPFAIL) transient, anything else the agent failing its task.
 */
const ShellFailureSchema = z.strictObject({
  kind: z.enum(AGENT_FAILURE_KINDS.filter((k) => k !== 'stall' && k !== 'budget') as ['transient']),
  code: z.string().min(1).optional(),
  message: z.string().optional(),
  fix: z.string().optional(),
  /** For `usage_limit`: when the limit resets (ISO 8601). */
  resetAt: z.iso.datetime({ offset: true }).optional(),
});

/** EX_TEMPFAIL of sysexits.h: "try again later". */
export const SHELL_TRANSIENT_EXIT = 75;

function shellFailure(
  result: AgentRunResult,
  failureFile: string,
  absolute: string,
): { failure: AgentFailure | null; resetAt?: string } {
  let text: string | undefined;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      parsed = { invalid: (error as Error).message };
    }
    const said = ShellFailureSchema.safeParse(parsed);
    if (!said.success)
      return {
        failure: failure(
          'agent',
          'failure_file_invalid',
          `${failureFile}: ${oneLine(said.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '))}`,
          'write one JSON object {"kind": "transient|usage_limit|needs_human|agent", "code", "message", "fix", "resetAt"} (docs/architecture.md#agent-failures)',
        ),
      };
    const { kind, code, message, fix, resetAt } = said.data;
    return {
      failure: failure(kind, code ?? kind, message ?? result.reason ?? kind, fix ?? null),
      ...(resetAt ? { resetAt: new Date(resetAt).toISOString() } : {}),
    };
  }
  if (result.status !== 'exited' || result.exitCode === 0) return { failure: result.failure ?? null };
  if (result.exitCode === SHELL_TRANSIENT_EXIT)
    return { failure: failure('transient', 'exit_75', result.reason ?? 'exited with code 75') };
  return { failure: failure('agent', 'exit', result.reason ?? 'exited with an error') };
}

/**
 * The shell adapter: any command, the prompt on stdin and in LOOP_STATION_PROMPT_FILE, its own
 * process group, heartbeats while alive, the group killed on cancel or timeout (or a stall, when
 * its idleTimeout is set). A failed agent is a result, not an error: only infrastructure problems
 * throw. A retry after a worker death adopts the run its predecessor started instead of running the
 * agent twice (launch.ts DurableRun).
 */
export async function runShellAgent(input: RunAgentInput): Promise<AgentRunResult> {
  const ctx = Context.current();
  const { durable, prior } = await priorAgentRun(input, 500);
  const files = await prepareCliRun(input, prior);
  const failureFile = `${files.base}.failure.json`;
  const failurePath = resolveInRoot(input.root, failureFile);
  // What an earlier run of this role left is not this run's verdict.
  if (prior === null) {
    rmSync(failurePath, { force: true });
    separateLogs(input.root, files, 'run');
  }
  const startedAt = new Date().toISOString();
  const watch = runWatch(input);
  const beat = heartbeats(ctx);
  const launched = await launch({
    command: input.agent.command ?? 'false',
    cwd: input.root,
    env: { ...cliEnvironment(input, files), ...watch.env, LOOP_STATION_FAILURE_FILE: failureFile },
    stdinFile: resolveInRoot(input.root, files.prompt),
    stdoutFile: resolveInRoot(input.root, files.log),
    stderrFile: resolveInRoot(input.root, files.stderr),
    timeoutMs: input.timeoutMs,
    cancelSignal: ctx.cancellationSignal,
    durable,
    adopt: prior,
    idle: watch.idle,
    leftovers: watch.leftovers,
    onTick: ({ pid, elapsedMs, stdoutBytes }) =>
      beat.send({ pid, host: hostname(), startedAt, elapsedMs, outputBytes: stdoutBytes }),
    onBeat: beat.again,
    preemptKey: ctx.info.workflowExecution?.workflowId,
  });
  const result = launchedResult(launched, files, input.root);
  const said = shellFailure(result, failureFile, failurePath);
  const limited = said.failure?.kind === 'usage_limit' && result.status === 'exited';
  return finishRun(input, files, {
    ...result,
    ...(said.failure ? { failure: said.failure } : {}),
    ...(limited
      ? { status: 'usage_limit', resetAt: said.resetAt ?? null, reason: `usage limit: ${said.failure!.message}` }
      : {}),
  });
}
