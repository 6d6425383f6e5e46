import { readFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopSpecInput } from '../protocol/schemas/loop-spec.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { claudeToolScenario, claudeUsageLimitScenario } from './fixtures/fake-models/anthropic-messages.js';
import { startFakeModelServer, type FakeModelServer, type Scenario } from './fixtures/fake-models/server.js';
import { useAgentHome } from './helpers/agent-home.js';
import { ensureAgentCli } from './helpers/agent-clis.js';
import { FIXTURE_AGENTS, toyRoot, toySpec } from './helpers/loops.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

/**
 * The failure policy with the real pinned Claude Code CLI against a fake Anthropic server on
 * 127.0.0.1, where the CLI already reports the failure (a subscription's usage limit with its
 * reset time): a required reviewer's wait holds the gate past its done timeout, and a supervisor
 * agent at its limit is waited for instead of replaced by the built-in rules.
 */

let worker: TestWorker;
let claudeBin: string;
const servers: FakeModelServer[] = [];
useAgentHome();

beforeAll(async () => {
  claudeBin = (await ensureAgentCli('claude')).path;
  // A subscription token: the CLI reads the unified rate-limit headers (the reset time) with it.
  process.env.CLAUDE_CODE_OAUTH_TOKEN = 'sk-ant-oat-fake';
  worker = await startTestWorker({ allowRoots: [await realpath(tmpdir())] });
}, 600_000);
afterAll(async () => {
  await worker?.stop();
  for (const s of servers) await s.close();
});

/**
 * The first model call answers the usage limit with a reset `resetInS` after that call, as a real
 * API's reset lies ahead of the request (a reset fixed before the loop started had passed when a
 * busy machine came to the call, and the engine then backs off 5 minutes); every later call `then`.
 */
async function limitedOnce(resetInS: number, then: Scenario) {
  let resetAt: number | null = null;
  const server = await startFakeModelServer((req) => {
    if (resetAt === null && req.url.startsWith('/v1/messages')) {
      resetAt = Math.ceil(Date.now() / 1000) + resetInS;
      return claudeUsageLimitScenario(resetAt)(req);
    }
    return then(req);
  });
  servers.push(server);
  process.env.ANTHROPIC_BASE_URL = server.origin;
  /** The reset the limited call answered (ISO). */
  const reset = () => {
    if (resetAt === null) throw new Error('the model was never called');
    return new Date(resetAt * 1000).toISOString();
  };
  return { server, reset };
}

const sessionEnv = (output: string) =>
  `LOOP_STATION_SESSION=001 LOOP_STATION_SESSION_DIR=loop_station/sessions/session_001 LOOP_STATION_AGENT=CLAUDE LOOP_STATION_OUTPUT=${output}`;
const usage = [
  { input: 100, cacheRead: 0, cacheWrite: 0, output: 10 },
  { input: 110, cacheRead: 0, cacheWrite: 0, output: 5 },
] as const;
const claude = () => ({
  agent: 'claude' as const,
  command: claudeBin,
  model: 'claude-fake',
  env: ['CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_BASE_URL'],
  allowedTools: ['Bash'],
});

async function run(root: string, over: Partial<LoopSpecInput>) {
  const config = toySpec(root, worker.taskQueue, { budget: { sessions: 1, perRun: '2m', wallClock: '20m' }, ...over });
  const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-overnight-agents-${process.pid}-${Date.now()}`,
    taskQueue: worker.taskQueue,
    args: [{ config }],
  });
  return (await handle.result()) as LoopResult;
}

describe('usage limits of every role, with the real Claude Code CLI', () => {
  test('a required Claude reviewer whose reset comes after its done timeout holds the gate until it can review', async () => {
    const reviews = claudeToolScenario({
      model: 'claude-fake',
      tool: {
        name: 'Bash',
        input: {
          command: `${sessionEnv('loop_station/reviews/session_001/CLAUDE-SESSION001-REVIEWER-DONE.md')} ${process.execPath} ${join(FIXTURE_AGENTS, 'toy-reviewer.mjs')}`,
        },
      },
      finalText: 'Review written.',
      usage,
    });
    // The CLI must report the limit inside the done timeout (with 3 s, at load 12–14, the gate closed
    // first and the session went unreviewed), and the reset lies past that timeout whenever it came.
    const { reset } = await limitedOnce(14, reviews);
    const root = await toyRoot();
    const result = await run(root, {
      reviewers: [{ ...claude(), required: true }],
      reviewWait: { startTimeout: '30s', doneTimeout: '10s', heartbeatTimeout: '60s', skipOnTimeout: true },
    });
    // Before, the review window (10 s) ended the wait and the session went on unreviewed.
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    const decision = await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');
    expect(decision).toMatch(/^reviews: CLAUDE:supported$/m);
    expect(
      await readFile(join(root, 'loop_station/flags/session_001/CLAUDE-SESSION001-REVIEWER-HEARTBEAT.flag'), 'utf8'),
    ).toMatch(new RegExp(`^reason: usage limit; waiting until ${reset()}$`, 'm'));
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('a Claude supervisor at its usage limit is waited for, then decides: no silent fallback', async () => {
    const decides = claudeToolScenario({
      model: 'claude-fake',
      tool: {
        name: 'Bash',
        input: {
          command: `${sessionEnv('loop_station/sessions/session_001/decision.md')} ${process.execPath} ${join(FIXTURE_AGENTS, 'judge.mjs')}`,
        },
      },
      finalText: 'Decided.',
      usage,
    });
    const { server, reset } = await limitedOnce(4, decides);
    // Session 2 leaves no report, so no candidate: the budget's stop asks the supervisor nothing.
    const root = await toyRoot({
      'judge-plan.json': JSON.stringify({ 1: 'keep' }),
      'plan.json': JSON.stringify({ noReport: [2] }),
    });
    const result = await run(root, {
      budget: { sessions: 2, perRun: '2m', wallClock: '20m' },
      reviewers: [],
      supervisor: claude(),
    });
    expect(result.history.map((h) => h.class)).toEqual(['keep', 'stop']);
    const decision = await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');
    expect([/^class: (.*)$/m.exec(decision)?.[1], /^source: (.*)$/m.exec(decision)?.[1]]).toEqual(['keep', 'agent']);
    expect(
      await readFile(join(root, 'loop_station/flags/session_001/CLAUDE-SESSION001-SUPERVISOR-HEARTBEAT.flag'), 'utf8'),
    ).toMatch(new RegExp(`^reason: usage limit; waiting until ${reset()}$`, 'm'));
    expect(result.interventions.map((i) => i.kind)).toContain('usage_wait');
    // The limited call, then the decision's two steps.
    expect(server.requests.filter((r) => r.url.startsWith('/v1/messages')).length).toBe(3);
  });
});
