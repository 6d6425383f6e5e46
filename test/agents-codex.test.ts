import { readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { describe, expect, test, vi } from 'vitest';
import { runCodexAgent } from '../activities/agents/codex.js';
import { skillInstallCommand } from '../cli/commands/skill.js';
import {
  agentCliSuite,
  agentConfig,
  mockActivity,
  runInput,
  silentOutput,
  survivors,
  treeWith,
  waitFor,
} from './helpers/agent-runs.js';
import { testdir } from './helpers/testdir.js';
import {
  codexErrorScenario,
  codexHangScenario,
  codexToolScenario,
  codexUsageLimitScenario,
  fakeProviderConfig,
  type ResponsesUsage,
} from './fixtures/fake-models/openai-responses.js';
import type { FakeModelServer, Scenario } from './fixtures/fake-models/server.js';

/**
 * The Codex adapter against the real `codex` binary (pinned, installed once into the cache) and a
 * fake Responses API server on 127.0.0.1: no network, no real key.
 */

const KEY = 'FAKE_CODEX_KEY';
const RUN = 'loop_station/sessions/session_001/runs/CODEX-EXECUTOR';
const FIRST: ResponsesUsage = { input: 1200, cached: 400, output: 80, reasoning: 30 };
const SECOND: ResponsesUsage = { input: 1500, cached: 1100, output: 60, reasoning: 10 };
const writeReport = codexToolScenario({
  command: "printf 'score: 42\\n' > report.md",
  finalText: 'Wrote report.md with score 42.',
  usage: [FIRST, SECOND],
});

const suite = agentCliSuite('codex');

async function setup(
  scenario: Scenario,
  agent: { env?: string[]; config?: Record<string, string>; command?: string } = {},
) {
  const server = await suite.serve(scenario);
  const root = await testdir();
  const config = agent.config ?? fakeProviderConfig(server.origin, KEY);
  const input = runInput(
    root,
    agentConfig('codex', {
      model: 'fake-model',
      command: agent.command ?? suite.binary(),
      env: agent.env ?? [KEY],
      options: { config },
    }),
  );
  return { server, root, input };
}

const modelCalls = (s: FakeModelServer) => s.requests.filter((r) => r.url === '/v1/responses');

describe('runCodexAgent', () => {
  test('writes the report through a real exec_command and returns the usage the fake server sent', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, root, input } = await setup(writeReport);
    const { run, heartbeats } = mockActivity();
    const result = await run(runCodexAgent, input);

    expect(await readFile(join(root, 'report.md'), 'utf8')).toBe('score: 42\n');
    const calls = modelCalls(server);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer sk-fake-codex', 'Bearer sk-fake-codex']);
    expect(calls[0]!.rawBody).toContain('Write report.md with your score.');
    const threadId = calls[0]!.headers['thread-id'];
    expect(result).toMatchObject({
      status: 'exited',
      exitCode: 0,
      signal: null,
      reason: null,
      logPath: `${RUN}.log`,
      usage: { tokensIn: 2700, tokensCached: 1500, tokensOut: 140, costUsd: 0, turns: 1 },
      sessionId: threadId,
      finalMessage: 'Wrote report.md with score 42.',
      resetAt: null,
    });
    expect(JSON.parse(await readFile(join(root, `${RUN}.json`), 'utf8'))).toEqual(result);
    expect(heartbeats[0]).toMatchObject({ pid: expect.any(Number), host: hostname() });
  });

  test("a retry resumes the previous attempt's thread and counts only its own tokens", async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, root, input } = await setup(writeReport);
    const first = await mockActivity().run(runCodexAgent, input);
    // The first attempt's process died with its machine: no exit status, nothing to adopt.
    await rm(join(root, `${RUN}.exit`));
    const retry = mockActivity({ pid: 2 ** 22 + 1, host: hostname(), sessionId: first.sessionId });
    const result = await retry.run(runCodexAgent, input);

    const calls = modelCalls(server);
    expect(calls).toHaveLength(3);
    expect(calls[2]!.headers['thread-id']).toBe(first.sessionId);
    // The resumed conversation carries the first run's tool call and output, then the retry's prompt.
    expect(calls[2]!.rawBody).toContain('"function_call_output"');
    expect(calls[2]!.rawBody).toContain('Your previous run of this task was interrupted.');
    expect(result).toMatchObject({
      status: 'exited',
      exitCode: 0,
      reason: null,
      sessionId: first.sessionId,
      usage: { tokensIn: 1500, tokensCached: 1100, tokensOut: 60, costUsd: 0, turns: 1 },
    });
    expect(await readFile(join(root, 'report.md'), 'utf8')).toBe('score: 42\n');
  });

  test("a retry whose predecessor's run had already ended adopts its outcome: no second run, the same figures", async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, root, input } = await setup(writeReport);
    const first = await mockActivity().run(runCodexAgent, input);
    // Same activity (the mock's ids), a later attempt: its worker died after the CLI exited.
    const retry = mockActivity({ pid: 2 ** 22 + 1, host: hostname(), sessionId: first.sessionId });
    const result = await retry.run(runCodexAgent, input);

    expect(modelCalls(server)).toHaveLength(2);
    expect(result).toMatchObject({ ...first, durationMs: expect.any(Number), adopted: 'finished' });
    expect(JSON.parse(await readFile(join(root, `${RUN}.json`), 'utf8'))).toEqual(result);
  });

  test('a 429 usage_limit_reached ends as usage_limit with the reset time of the exhausted window', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { input } = await setup(codexUsageLimitScenario(1_800_000_030));
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({
      status: 'usage_limit',
      exitCode: 1,
      resetAt: '2027-01-15T08:00:30.000Z',
      reason:
        'usage limit reached (resets 2027-01-15T08:00:30.000Z): You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit https://chatgpt.com/settings/usage to purchase more credits or try again at Jan 15th, 2027 8:00 AM.',
      usage: { tokensIn: 0, tokensCached: 0, tokensOut: 0, costUsd: 0, turns: 0 },
    });
  });

  test('without rate-limit headers the reset time comes from the message, to the minute', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { input } = await setup(
      codexErrorScenario(429, {
        type: 'usage_limit_reached',
        message: 'The usage limit has been reached',
        plan_type: 'plus',
        resets_at: 1_800_000_030,
      }),
    );
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({ status: 'usage_limit', exitCode: 1, resetAt: '2027-01-15T08:00:00.000Z' });
  });

  test('insufficient_quota is a billing failure, not a usage limit to wait out', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { input } = await setup(
      codexErrorScenario(429, {
        type: 'insufficient_quota',
        code: 'insufficient_quota',
        message: 'You exceeded your current quota, please check your plan and billing details.',
      }),
    );
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({
      status: 'exited',
      exitCode: 1,
      resetAt: null,
      reason:
        'quota exceeded (insufficient_quota): check the plan and billing of the API key: Quota exceeded. Check your plan and billing details.',
    });
  });

  test("a key in the worker's environment that the spec does not allow is auth_missing, and nothing is sent", async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, input } = await setup(writeReport, { env: [] });
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({
      status: 'auth_missing',
      exitCode: null,
      reason:
        "FAKE_CODEX_KEY is not set for the agent: model provider fake reads its API key from it; fix: set FAKE_CODEX_KEY in the worker's environment and allow it in the spec (env: [FAKE_CODEX_KEY])",
      failure: { kind: 'needs_human', code: 'not_logged_in' },
      login: 'none',
    });
    expect(server.requests).toEqual([]);
  });

  test('no CODEX_API_KEY and no login of the worker user is auth_missing naming both fixes', async () => {
    vi.stubEnv('CODEX_API_KEY', '');
    vi.stubEnv('CODEX_HOME', '');
    // A worker user who never logged in: a HOME without ~/.codex.
    const home = await testdir();
    vi.stubEnv('HOME', home);
    const { input } = await setup(writeReport, { env: ['CODEX_API_KEY'], config: {} });
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({
      status: 'auth_missing',
      reason: `no Codex credentials: CODEX_API_KEY is not set for the agent and the worker's user is not logged in (${home}/.codex); fix: log in once as the worker's user with \`codex login\` (\`codex login --device-auth\` without a browser), or set CODEX_API_KEY in the worker's environment and list it under env`,
      failure: { kind: 'needs_human', code: 'not_logged_in' },
    });
  });

  test('a missing binary is not_installed with the install command', async () => {
    const { input } = await setup(writeReport, { command: '/nonexistent/bin/codex' });
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({
      status: 'not_installed',
      reason:
        '/nonexistent/bin/codex not found: install Codex CLI with `npm i -g @openai/codex@0.169.0`, or set command: to the codex binary in the spec',
    });
  });

  test('cancel kills the whole tree of a CLI hung in a tool command', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { root, input } = await setup(codexHangScenario('setsid -w sleep 301 & exec sleep 300'));
    const { env, run, heartbeats } = mockActivity();
    const running = run(runCodexAgent, input);
    const tree = await treeWith(heartbeats, 'sleep', 2);
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(survivors(tree)).toEqual([]);
    expect(JSON.parse(await readFile(join(root, `${RUN}.json`), 'utf8'))).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled; process tree killed',
    });
  });

  test('the per-run timeout kills a CLI whose model never answers', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, input } = await setup(codexHangScenario());
    const { run, heartbeats } = mockActivity();
    const running = run(runCodexAgent, { ...input, timeoutMs: 4000 });
    await waitFor(() => modelCalls(server).length === 1, 'the first model call');
    const tree = await treeWith(heartbeats, 'codex', 1);
    const result = await running;
    expect(result).toMatchObject({ status: 'timeout', reason: 'per-run time limit reached; process tree killed' });
    expect(survivors(tree)).toEqual([]);
  });

  test('after `skill install --for codex --scope user` the skill reaches the model in the request', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const home = await testdir();
    const installed = await skillInstallCommand({ for: 'codex', scope: 'user', env: { HOME: home } }, silentOutput);
    expect(installed.target).toBe(join(home, '.agents/skills/loop-station'));
    vi.stubEnv('HOME', home);
    const { server, input } = await setup(writeReport);
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result.status).toBe('exited');
    const skill = await readFile(join(installed.target, 'SKILL.md'), 'utf8');
    const description = /^description: (.*)$/m.exec(skill)![1]!;
    expect(modelCalls(server)[0]!.rawBody).toContain(`loop-station: ${description}`);
  });
});
