import { readFileSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { afterEach, beforeAll, vi } from 'vitest';
import type { AgentCliName } from '../../activities/agents/cli-versions.js';
import type { Output } from '../../cli/output.js';
import { startFakeModelServer, type FakeModelServer, type Scenario } from '../fixtures/fake-models/server.js';
import { useAgentHome } from './agent-home.js';
import { ensureAgentCli } from './agent-clis.js';
import type { AgentConfig, AgentConfigOf } from '../../protocol/schemas/loop-config.js';
import type { CliHeartbeat } from '../../activities/agents/cli-run.js';
import { newestChange } from '../../activities/agents/idle.js';
import { descendantsOf, isAlive } from '../../activities/agents/process-tree.js';
import type { RunAgentInput } from '../../activities/agents/run-agent.js';

/** Inputs, a mock activity context and process-tree probes for the agent adapter tests. */

export function agentConfig<K extends 'codex' | 'claude'>(
  kind: K,
  overrides: Partial<Omit<AgentConfigOf<K>, 'kind'>> = {},
): AgentConfigOf<K> {
  return {
    token: kind.toUpperCase(),
    kind,
    model: null,
    command: null,
    required: true,
    timeoutMs: null,
    env: [],
    instructions: null,
    options: {},
    ...overrides,
  } as AgentConfigOf<K>;
}

export function runInput(root: string, agent: AgentConfig, overrides: Partial<RunAgentInput> = {}): RunAgentInput {
  return {
    root,
    session: 1,
    role: 'EXECUTOR',
    agent,
    loopEnv: [],
    prompt: 'Write report.md with your score.',
    output: 'report.md',
    timeoutMs: 90_000,
    ...overrides,
  };
}

export interface MockRun {
  env: MockActivityEnvironment;
  heartbeats: CliHeartbeat[];
  /** Runs an activity in this context; runs still going when a test ends are cancelled by `cancelPendingRuns`. */
  run<I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O>;
}

const pending = new Map<MockActivityEnvironment, Promise<void>>();

/**
 * An activity context whose heartbeats are recorded; `previous` plays a crashed attempt's details.
 * Runs share the mock's activity id (so a later one may adopt an earlier one's run, as a retry
 * would) unless `activityId` makes them different activities.
 */
export function mockActivity(previous?: Partial<CliHeartbeat>, activityId?: string): MockRun {
  const info: Partial<Info> = {
    ...(previous ? { heartbeatDetails: previous, attempt: 2 } : {}),
    ...(activityId ? { activityId } : {}),
  };
  const env = new MockActivityEnvironment(info);
  const heartbeats: CliHeartbeat[] = [];
  env.on('heartbeat', (details: CliHeartbeat) => heartbeats.push(details));
  const run = <I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> => {
    const running = env.run(fn, input) as Promise<O>;
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    pending.set(env, settled);
    void settled.then(() => pending.delete(env));
    return running;
  };
  return { env, heartbeats, run };
}

/** afterEach: a test that failed mid-run must not leave its agent's process tree behind. */
export async function cancelPendingRuns(): Promise<void> {
  const runs = [...pending];
  for (const [env] of runs) env.cancel();
  await Promise.all(runs.map(([, settled]) => settled));
}

export async function waitFor<T>(probe: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const commandName = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

/** The agent's whole tree, once `count` processes named `name` run in it (its hung tool commands). */
export async function treeWith(heartbeats: readonly CliHeartbeat[], name: string, count: number): Promise<number[]> {
  const pid = await waitFor(() => heartbeats[0]?.pid, 'the first heartbeat');
  return waitFor(() => {
    const tree = [pid, ...descendantsOf(pid)];
    return tree.filter((p) => commandName(p) === name).length >= count && tree;
  }, `${count} ${name} processes under pid ${pid}`);
}

export const survivors = (pids: readonly number[]): number[] => pids.filter((p) => isAlive(p));

/**
 * Watches a run's root while its process tree is whole and returns the stall rule's two bounds,
 * however long the CLI took to start: `silentMs`, the longest stretch without a change under the
 * root (output included: the logs are there), and `killedAfterMs`, from that stretch's start to the
 * moment the tree began to die. Not simply "last change → death": the CLI may write after the
 * engine decided (its housekeeping, or its own SIGTERM handling before it ends its tools), and such
 * a change is no sign of life the engine could have seen (one CI run: Claude's `.last-cleanup`
 * written 0.3 s before the tree died, 3.7 s into a silence). The tree dies when its leader or a
 * process named `hungIn` (what the run hangs in) does: the CLI also starts short-lived helpers of
 * its own, and one of them ending is no kill (one CI run: a tree member gone 0.3 s into a silence).
 */
export async function lastLifeThenKill(
  root: string,
  tree: readonly number[],
  hungIn: string,
): Promise<{ silentMs: number; killedAfterMs: number }> {
  const lasting = tree.filter((pid, i) => i === 0 || commandName(pid) === hungIn);
  // The newest change before the watch began counts: the silence may have started before it.
  const changes = [Math.min(await newestChange([root]), Date.now())];
  for (;;) {
    const newest = Math.min(await newestChange([root]), Date.now());
    if (survivors(lasting).length < lasting.length) {
      const death = Date.now();
      let silentMs = 0;
      let killedAfterMs = 0;
      [...changes, death].forEach((t, i, all) => {
        if (i > 0 && t - all[i - 1]! >= silentMs) [silentMs, killedAfterMs] = [t - all[i - 1]!, death - all[i - 1]!];
      });
      return { silentMs, killedAfterMs };
    }
    if (newest > changes.at(-1)!) changes.push(newest);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const silentOutput: Output = {
  json: false,
  color: false,
  data: () => undefined,
  json_: () => undefined,
  log: () => undefined,
};

/**
 * Hooks of an adapter test file: the pinned CLI installed (or found) once; after each test, runs
 * still going are cancelled, stubbed variables restored and fake servers closed.
 */
export function agentCliSuite(name: AgentCliName): {
  binary: () => string;
  serve: (scenario: Scenario) => Promise<FakeModelServer>;
} {
  let binary = '';
  const servers: FakeModelServer[] = [];
  useAgentHome();
  beforeAll(async () => {
    binary = (await ensureAgentCli(name)).path;
  }, 600_000);
  afterEach(async () => {
    await cancelPendingRuns();
    vi.unstubAllEnvs();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    binary: () => binary,
    serve: async (scenario) => {
      const server = await startFakeModelServer(scenario);
      servers.push(server);
      return server;
    },
  };
}
