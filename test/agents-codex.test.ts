import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { runCodexAgent } from '../activities/agents/codex.js';
import { skillInstallCommand } from '../cli/commands/skill.js';
import {
  agentCliSuite,
  agentConfig,
  mockActivity,
  runInput,
  silentOutput,
  lastLifeThenKill,
  survivors,
  treeWith,
  waitFor,
} from './helpers/agent-runs.js';
import { testdir } from './helpers/testdir.js';
import { OPENAI_ERRORS } from './fixtures/fake-models/api-errors.js';
import {
  codexErrorScenario,
  codexHangScenario,
  codexRuns,
  codexSays,
  codexSequence,
  codexToolScenario,
  codexUsageLimitScenario,
  fakeProviderConfig,
  type ResponsesUsage,
} from './fixtures/fake-models/openai-responses.js';
import type { FakeModelServer, Scenario } from './fixtures/fake-models/server.js';
import type { RunAgentInput } from '../activities/agents/run-agent.js';
import { isAlive } from '../activities/agents/process-tree.js';
import { renderUnattendedNote } from '../protocol/prompts/unattended-note.js';

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

// Codex runs tool commands in a login shell: a HOME of its own keeps the worker user's profile (and
// what it starts in the background, which a run's leftovers would list) out of these runs.
beforeEach(async () => {
  vi.stubEnv('HOME', await testdir());
});

async function setup(
  scenario: Scenario,
  agent: {
    env?: string[];
    config?: Record<string, string>;
    command?: string;
    sandbox?: 'read-only' | 'workspace-write' | 'danger-full-access';
  } = {},
  overrides: Partial<RunAgentInput> = {},
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
      options: { config, ...(agent.sandbox ? { sandbox: agent.sandbox } : {}) },
    }),
    overrides,
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

  test('insufficient_quota is a billing failure for a person to fix, not a usage limit to wait out', async () => {
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
      failure: {
        kind: 'needs_human',
        code: 'insufficient_quota',
        message: 'Quota exceeded. Check your plan and billing details.',
        fix: expect.stringContaining('add credit'),
      },
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

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const bodyOf = (s: FakeModelServer, n: number) => modelCalls(s)[n]!.rawBody;

describe('runCodexAgent: failures, the unattended note, nudges, threads, images, stalls, leftovers', () => {
  test.for([
    ['HTTP 503 overloaded', OPENAI_ERRORS.overloaded, { kind: 'transient', code: 'overloaded' }],
    ['HTTP 404 model_not_found', OPENAI_ERRORS.modelNotFound, { kind: 'needs_human', code: 'model_not_found' }],
    ['HTTP 400 context_length_exceeded', OPENAI_ERRORS.contextLengthExceeded, { kind: 'agent', code: 'context_full' }],
  ] as const)('%s is classified from what Codex prints', async ([, reply, expected]) => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { input } = await setup(codexSequence([reply]));
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({ status: 'exited', exitCode: 1, failure: expected });
    expect(result.sessionId).toEqual(expect.any(String));
  });

  test('a provider that is down: Codex waits for the network, the adapter stops it as a transient failure', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, input } = await setup(codexSequence([writeReportReply()]));
    await server.close();
    const result = await mockActivity().run(runCodexAgent, { ...input, idleTimeoutMs: 3000 });
    expect(result).toMatchObject({
      status: 'exited',
      failure: { kind: 'transient', code: 'network', message: expect.stringContaining('waiting for network') },
    });
  });

  test('every run gets the unattended note before its prompt, naming the files it must write', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, input } = await setup(writeReport, {}, { mustWrite: ['report.md', 'proposal.md'] });
    await writeFile(join(input.root, 'proposal.md'), 'next: more\n');
    await mockActivity().run(runCodexAgent, input);
    const note = renderUnattendedNote({
      role: 'EXECUTOR',
      agent: 'CODEX',
      session: 1,
      mustWrite: ['report.md', 'proposal.md'],
    });
    const sent = (JSON.parse(bodyOf(server, 0)) as { input: { role?: string; content?: { text?: string }[] }[] }).input
      .filter((m) => m.role === 'user')
      .flatMap((m) => m.content ?? [])
      .map((c) => c.text ?? '');
    // The note opens the prompt the model gets, before the task.
    expect(sent.some((text) => text.startsWith(`${note}\n\n${input.prompt}`))).toBe(true);
  });

  test('a turn that ends with a question is nudged once in the same thread, and then writes its report', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, root, input } = await setup(
      codexSequence([
        codexSays('Should the report go to report.md or to a new file?', FIRST),
        codexRuns("printf 'score: 7\\n' > report.md", SECOND),
        codexSays('Wrote report.md.', SECOND),
      ]),
    );
    const result = await mockActivity().run(runCodexAgent, input);

    const calls = modelCalls(server);
    expect(calls).toHaveLength(3);
    // The nudge continues the first turn's thread: same thread id, the question in its history.
    expect(calls[1]!.headers['thread-id']).toBe(calls[0]!.headers['thread-id']);
    expect(calls[1]!.rawBody).toContain('Should the report go to report.md or to a new file?');
    expect(calls[1]!.rawBody).toContain('You stopped without writing report.md; finish the task.');
    expect(await readFile(join(root, 'report.md'), 'utf8')).toBe('score: 7\n');
    expect(result).toMatchObject({
      status: 'exited',
      exitCode: 0,
      nudged: true,
      sessionId: calls[0]!.headers['thread-id'],
      finalMessage: 'Wrote report.md.',
      usage: { tokensIn: 1200 + 1500 * 2, tokensOut: 80 + 60 * 2, turns: 2 },
    });
    expect(result.failure ?? null).toBeNull();
    // One log, both processes, a separator between them.
    const log = await readFile(join(root, `${RUN}.log`), 'utf8');
    expect(log.match(/"type":"thread.started"/g)).toHaveLength(2);
    expect(log).toMatch(/^--- loop-station: \S+ nudge in thread \S+ ---$/m);
  });

  test('a run that ends well with its files is not nudged', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, input } = await setup(writeReport);
    const result = await mockActivity().run(runCodexAgent, input);
    expect(modelCalls(server)).toHaveLength(2);
    expect(result.nudged).toBeUndefined();
  });

  test("resumeThreadId continues a thread an earlier session's run started; the log is appended to", async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, root, input } = await setup(writeReport);
    const first = await mockActivity().run(runCodexAgent, input);
    server.setScenario(codexSequence([codexSays('Continued where I was.', SECOND)]));
    await writeFile(join(root, 'plot.png'), PNG);
    // Session 2's run has a state folder of its own: the thread is carried over from session 1's.
    const second = await mockActivity().run(runCodexAgent, {
      ...input,
      session: 2,
      prompt: 'Carry on with session 2.',
      resumeThreadId: first.sessionId,
      images: ['plot.png'],
    });
    const calls = modelCalls(server);
    expect(calls).toHaveLength(3);
    expect(calls[2]!.headers['thread-id']).toBe(first.sessionId);
    expect(calls[2]!.rawBody).toContain('"function_call_output"');
    expect(calls[2]!.rawBody).toContain('Carry on with session 2.');
    // Images reach a resumed thread too (`resume <id> --image …`).
    expect(calls[2]!.rawBody).toContain('"type":"input_image"');
    expect(second).toMatchObject({
      status: 'exited',
      exitCode: 0,
      sessionId: first.sessionId,
      usage: { tokensIn: 1500, tokensOut: 60, turns: 1 },
    });
    // A second run of session 1's role appends below a separator, keeping the first run's log.
    const again = await mockActivity(undefined, 'another-activity').run(runCodexAgent, {
      ...input,
      resumeThreadId: first.sessionId,
    });
    expect(again.sessionId).toBe(first.sessionId);
    const log = await readFile(join(root, `${RUN}.log`), 'utf8');
    expect(log.match(/"type":"thread.started"/g)).toHaveLength(2);
    expect(log).toContain(`--- loop-station:`);
    expect(log).toContain(`resumed thread ${first.sessionId} ---`);
  });

  test('images are attached as input_image items, within the caps; what is left out is named', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, root, input } = await setup(writeReport);
    await writeFile(join(root, 'plot.png'), PNG);
    await writeFile(join(root, 'huge.png'), Buffer.alloc(6 * 1024 * 1024, 1));
    const result = await mockActivity().run(runCodexAgent, {
      ...input,
      images: ['plot.png', 'huge.png', 'missing.png', 'notes.txt'],
    });
    const body = JSON.parse(bodyOf(server, 0)) as { input: { content?: { type: string; image_url?: string }[] }[] };
    const images = body.input.flatMap((m) => m.content ?? []).filter((c) => c.type === 'input_image');
    expect(images).toHaveLength(1);
    expect(images[0]!.image_url).toMatch(/^data:image\/png;base64,/);
    expect(bodyOf(server, 0)).toContain('Images attached to this prompt: plot.png.');
    expect(bodyOf(server, 0)).toContain(
      'Images left out (huge.png: 6.0 MB, over the 5.0 MB limit; missing.png: missing',
    );
    expect(result.images).toEqual({
      attached: ['plot.png'],
      omitted: [
        { path: 'huge.png', reason: '6.0 MB, over the 5.0 MB limit' },
        { path: 'missing.png', reason: 'missing' },
        { path: 'notes.txt', reason: 'not a png, jpeg, gif or webp image' },
      ],
    });
  });

  test('a reviewer runs read-only: its refused write is reported, and its final message becomes its review', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const review = 'loop_station/reviews/session_001/CODEX-SESSION001-REVIEWER-DONE.md';
    const { root, input } = await setup(
      codexSequence([codexRuns("printf 'x\\n' > notes.md"), codexSays('verdict: supported\n\nThe metric holds.')]),
      {},
      { role: 'REVIEWER', output: review },
    );
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({
      status: 'exited',
      exitCode: 0,
      permissionDenials: ["exec_command: printf 'x\\n' > notes.md: Read-only file system"],
    });
    expect(result.nudged).toBeUndefined();
    expect(await readFile(join(root, review), 'utf8')).toBe('verdict: supported\n\nThe metric holds.\n');
  });

  test('a run silent for longer than its idle timeout is killed as a stall, its thread kept', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { server, input } = await setup(codexHangScenario('exec sleep 300'));
    const { run, heartbeats } = mockActivity();
    const running = run(runCodexAgent, { ...input, idleTimeoutMs: 3000 });
    const tree = await treeWith(heartbeats, 'sleep', 1);
    // A silence of the timeout (the CLI's own files count as life), and the kill at most 5 s after it began.
    const { silentMs, killedAfterMs } = await lastLifeThenKill(input.root, tree, 'sleep');
    expect(silentMs).toBeGreaterThanOrEqual(3000 - 100);
    expect(killedAfterMs).toBeLessThan(3000 + 5000);
    const result = await running;
    expect(result).toMatchObject({
      status: 'timeout',
      failure: { kind: 'stall', code: 'idle' },
      sessionId: modelCalls(server)[0]!.headers['thread-id'],
    });
    expect(result.reason).toMatch(/^stalled: no output and no file change for \d+s; process tree killed$/);
    expect(survivors(tree)).toEqual([]);
  });

  // Codex ends what a tool command leaves in its process group, and its workspace-write sandbox (a
  // pid namespace) everything: a job that escapes both (setsid, no sandbox) is the adapter's to find.
  test('a process the agent left running under nohup is listed and killed', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { input } = await setup(
      codexSequence([
        // The job writes its pid once it has its own session: the command waits for that, not for a time.
        codexRuns(
          "setsid sh -c 'echo $$ > job.pid; exec sleep 600' >/dev/null 2>&1 & while [ ! -s job.pid ]; do :; done; printf 'ok\\n' > report.md",
        ),
        codexSays('Started the job.'),
      ]),
      { sandbox: 'danger-full-access' },
    );
    const result = await mockActivity().run(runCodexAgent, input);
    const pid = Number(await readFile(join(input.root, 'job.pid'), 'utf8'));
    expect(result.leftovers).toEqual([{ pid, command: 'sleep 600', waitedFor: false }]);
    expect(isAlive(result.leftovers![0]!.pid)).toBe(false);
  });

  test('with waitForChildren the run returns only once the job it left has ended', async () => {
    vi.stubEnv(KEY, 'sk-fake-codex');
    const { root, input } = await setup(
      codexSequence([
        codexRuns(
          "setsid sh -c 'echo $$ > job.pid; sleep 2; echo done > job.txt' >/dev/null 2>&1 & while [ ! -s job.pid ]; do :; done; printf 'ok\\n' > report.md",
        ),
        codexSays('Started the job.'),
      ]),
      { sandbox: 'danger-full-access' },
    );
    const result = await mockActivity().run(runCodexAgent, { ...input, waitForChildren: true });
    expect(await readFile(join(root, 'job.txt'), 'utf8')).toBe('done\n');
    expect(result.leftovers).toContainEqual({
      pid: Number(await readFile(join(root, 'job.pid'), 'utf8')),
      command: 'sh -c echo $$ > job.pid; sleep 2; echo done > job.txt',
      waitedFor: true,
    });
    expect(result.leftovers!.every((l) => !isAlive(l.pid))).toBe(true);
    expect(await readdir(root)).toContain('job.txt');
  });
});

function writeReportReply() {
  return codexRuns("printf 'score: 42\\n' > report.md");
}
