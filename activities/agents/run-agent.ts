import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Context, CancelledFailure } from '@temporalio/activity';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { ZERO_USAGE } from '../../protocol/schemas/agent-result.js';
import type { AgentConfig } from '../../protocol/schemas/loop-config.js';
import { runsDir, sessionDir, sessionLabel } from '../../protocol/layout.js';
import { resolveInRoot } from '../paths.js';
import { agentEnvironment } from './environment.js';
import { launch, tailOf, type LaunchResult } from './launch.js';
import { isAlive, killTree } from './process-tree.js';

export interface RunAgentInput {
  root: string;
  session: number;
  role: 'EXECUTOR' | 'SUPERVISOR' | 'REVIEWER';
  agent: AgentConfig;
  /** Environment variable names the loop passes to every agent (values stay in the worker). */
  loopEnv: readonly string[];
  prompt: string;
  /** Root-relative path of the artifact the agent must write. */
  output: string;
  timeoutMs: number | null;
}

interface RunHeartbeat {
  pid: number;
  host: string;
  startedAt: string;
}

/** A retried attempt first ends the process group a crashed attempt may have left on this host. */
async function reapPreviousAttempt(): Promise<void> {
  const details = Context.current().info.heartbeatDetails as RunHeartbeat | undefined;
  if (details?.host === hostname() && typeof details.pid === 'number' && isAlive(details.pid)) {
    await killTree(details.pid, 500);
  }
}

export interface RunFiles {
  prompt: string;
  log: string;
  result: string;
}

export async function prepareRun(input: RunAgentInput): Promise<RunFiles> {
  const base = `${runsDir(input.session)}/${input.agent.token}-${input.role}`;
  await mkdir(resolveInRoot(input.root, runsDir(input.session)), { recursive: true });
  const files = { prompt: `${base}.prompt.md`, log: `${base}.log`, result: `${base}.json` };
  await writeFile(resolveInRoot(input.root, files.prompt), input.prompt);
  return files;
}

function toResult(launched: LaunchResult, files: RunFiles, root: string): AgentRunResult {
  const tail = tailOf(resolveInRoot(root, files.log));
  const reasons: Record<LaunchResult['status'], string | null> = {
    exited: launched.exitCode === 0 ? null : `exited with code ${launched.exitCode ?? 'none'}${launched.signal ? ` (${launched.signal})` : ''}`,
    timeout: 'per-run time limit reached; process group killed',
    cancelled: 'cancelled; process group killed',
    spawn_failed: `could not start: ${launched.spawnError ?? 'unknown error'}`,
    output_limit: 'output limit exceeded; process group killed',
  };
  return {
    status: launched.status,
    exitCode: launched.exitCode,
    signal: launched.signal,
    durationMs: launched.durationMs,
    reason: reasons[launched.status],
    stdoutTail: tail,
    stderrTail: '',
    logPath: files.log,
    usage: ZERO_USAGE,
    sessionId: null,
    finalMessage: null,
    resetAt: null,
  };
}

/**
 * The shell adapter: any command, the prompt on stdin and in LOOP_STATION_PROMPT_FILE, its own
 * process group, heartbeats while alive, the group killed on cancel or timeout. A failed agent is
 * a result, not an error: only infrastructure problems throw.
 */
export async function runShellAgent(input: RunAgentInput): Promise<AgentRunResult> {
  const ctx = Context.current();
  await reapPreviousAttempt();
  const files = await prepareRun(input);
  const env = agentEnvironment([...input.loopEnv, ...input.agent.env], {
    role: input.role,
    agent: input.agent.token,
    session: sessionLabel(input.session),
    root: input.root,
    sessionDir: sessionDir(input.session),
    promptFile: files.prompt,
    output: input.output,
  });
  const startedAt = new Date().toISOString();
  const launched = await launch({
    command: input.agent.command ?? 'false',
    cwd: input.root,
    env,
    stdinFile: resolveInRoot(input.root, files.prompt),
    stdoutFile: resolveInRoot(input.root, files.log),
    stderrFile: resolveInRoot(input.root, files.log),
    timeoutMs: input.timeoutMs,
    cancelSignal: ctx.cancellationSignal,
    onTick: ({ pid, elapsedMs, stdoutBytes }) => ctx.heartbeat({ pid, host: hostname(), startedAt, elapsedMs, outputBytes: stdoutBytes }),
  });
  const result = toResult(launched, files, input.root);
  await writeFile(resolveInRoot(input.root, files.result), `${JSON.stringify(result, null, 2)}\n`);
  if (launched.status === 'cancelled') throw new CancelledFailure('agent run cancelled; its process group was killed');
  return result;
}
