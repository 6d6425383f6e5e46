import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { resolveInRoot } from '../paths.js';
import { cliEnvironment, finishRun, launchedResult, prepareCliRun, priorAgentRun } from './cli-run.js';
import { launch } from './launch.js';
import type { RunAgentInput } from './run-agent.js';

/**
 * The shell adapter: any command, the prompt on stdin and in LOOP_STATION_PROMPT_FILE, its own
 * process group, heartbeats while alive, the group killed on cancel or timeout. A failed agent is
 * a result, not an error: only infrastructure problems throw. A retry after a worker death adopts
 * the run its predecessor started instead of running the agent twice (launch.ts DurableRun).
 */
export async function runShellAgent(input: RunAgentInput): Promise<AgentRunResult> {
  const ctx = Context.current();
  const { durable, prior } = await priorAgentRun(input, 500);
  const files = await prepareCliRun(input, prior);
  const startedAt = new Date().toISOString();
  const launched = await launch({
    command: input.agent.command ?? 'false',
    cwd: input.root,
    env: cliEnvironment(input, files),
    stdinFile: resolveInRoot(input.root, files.prompt),
    stdoutFile: resolveInRoot(input.root, files.log),
    stderrFile: resolveInRoot(input.root, files.stderr),
    timeoutMs: input.timeoutMs,
    cancelSignal: ctx.cancellationSignal,
    durable,
    adopt: prior,
    onTick: ({ pid, elapsedMs, stdoutBytes }) =>
      ctx.heartbeat({ pid, host: hostname(), startedAt, elapsedMs, outputBytes: stdoutBytes }),
  });
  return finishRun(input, files, launchedResult(launched, files, input.root));
}
