import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Activities } from '../../activities/index.js';
import { LOG_SEPARATOR } from '../../activities/agents/cli-run.js';
import type { RunAgentInput } from '../../activities/agents/run-agent.js';
import { AgentFailureSchema, type AgentRunResult } from '../../protocol/schemas/agent-result.js';

/**
 * A seam for the workflow's failure policy, until every adapter classifies its CLI's failures: the
 * real runAgent activity runs the agent (a real child process, test/fixtures/agents/flaky.mjs),
 * then a `LOOP_STATION_FAILURE <json>` line it printed becomes the result's `failure` (a usage
 * limit also its status and resetAt) and `LOOP_STATION_THREAD <id>` its thread. Before each run,
 * what the workflow told it (the thread to resume, the idle timeout, the budget left, the files it
 * must write) is appended to `<root>/.cache/scripted-runs.jsonl` (in .cache/: the executor's footprint skips caches), for the agent and the test to read.
 */

export interface ScriptedRun {
  session: number;
  role: RunAgentInput['role'];
  agent: string;
  resumeThreadId: string | null;
  idleTimeoutMs: number | null;
  budgetLeft: RunAgentInput['budgetLeft'] | null;
  mustWrite: readonly string[] | null;
}

export function scriptedFailures(activities: Activities): Activities {
  return {
    ...activities,
    runAgent: async (input: RunAgentInput) => {
      const told: ScriptedRun = {
        session: input.session,
        role: input.role,
        agent: input.agent.token,
        resumeThreadId: input.resumeThreadId ?? null,
        idleTimeoutMs: input.idleTimeoutMs ?? null,
        budgetLeft: input.budgetLeft ?? null,
        mustWrite: input.mustWrite ?? null,
      };
      await mkdir(join(input.root, '.cache'), { recursive: true });
      await appendFile(join(input.root, '.cache', 'scripted-runs.jsonl'), `${JSON.stringify(told)}\n`);
      return scripted(await activities.runAgent(input));
    },
  };
}

function scripted(result: AgentRunResult): AgentRunResult {
  // A resumed run appends to its log after a `--- loop-station: <time> run ---` line: only this run's part counts.
  const lines = result.stdoutTail.split('\n');
  const thisRun = lines.slice(lines.findLastIndex((l) => l.startsWith(LOG_SEPARATOR)) + 1);
  const line = (marker: string) => thisRun.find((l) => l.startsWith(`${marker} `))?.slice(marker.length + 1);
  const thread = line('LOOP_STATION_THREAD') ?? null;
  const failureText = line('LOOP_STATION_FAILURE');
  if (failureText === undefined) return { ...result, sessionId: thread };
  const { resetAt, ...rest } = JSON.parse(failureText) as Record<string, unknown> & { resetAt: string | null };
  const failure = AgentFailureSchema.parse(rest);
  return {
    ...result,
    sessionId: thread,
    failure,
    ...(failure.kind === 'usage_limit' ? { status: 'usage_limit' as const, resetAt } : {}),
  };
}

/** What the workflow told each run, in order. */
export async function scriptedRuns(root: string): Promise<ScriptedRun[]> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(join(root, '.cache', 'scripted-runs.jsonl'), 'utf8').catch(() => '');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ScriptedRun);
}
