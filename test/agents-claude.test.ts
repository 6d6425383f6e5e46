import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { runClaudeAgent } from '../activities/agents/claude.js';
import { renderUnattendedNote } from '../protocol/prompts/unattended-note.js';
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
import {
  claudeErrorScenario,
  claudeHangScenario,
  claudeSays,
  claudeSequence,
  claudeToolScenario,
  claudeUsageLimitScenario,
  claudeUses,
  type MessagesUsage,
} from './fixtures/fake-models/anthropic-messages.js';
import { ANTHROPIC_ERRORS } from './fixtures/fake-models/api-errors.js';
import type { FakeModelServer, Scenario } from './fixtures/fake-models/server.js';

/**
 * The Claude Code adapter against the real `claude` binary (pinned, installed once into the cache)
 * and a fake Messages API server on 127.0.0.1: no network, no real key.
 */

const MODEL = 'claude-sonnet-4-5';
const RUN = 'loop_station/sessions/session_001/runs/CLAUDE-EXECUTOR';
const FIRST: MessagesUsage = { input: 900, cacheRead: 2000, cacheWrite: 300, output: 70 };
const SECOND: MessagesUsage = { input: 120, cacheRead: 3100, cacheWrite: 50, output: 45 };
/** Claude Code's own list-price estimate for Sonnet 4.5: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million. */
const sonnetCost = (...calls: MessagesUsage[]) =>
  calls.reduce((sum, u) => sum + (u.input * 3 + u.output * 15 + u.cacheRead * 0.3 + u.cacheWrite * 3.75) / 1e6, 0);

const suite = agentCliSuite('claude');

// Claude Code's Bash tool sources the user's shell profile: a HOME of its own keeps the worker
// user's profile (and what it starts in the background) out of these runs.
beforeEach(async () => {
  vi.stubEnv('HOME', await testdir());
});

const writeReport = (root: string) =>
  claudeToolScenario({
    model: MODEL,
    tool: { name: 'Write', input: { file_path: join(root, 'report.md'), content: 'score: 42\n' } },
    finalText: 'Wrote report.md with score 42.',
    usage: [FIRST, SECOND],
  });

/** A loop root, a fake server playing `scenario(root)`, and an input whose agent may see `env`. */
async function setup(
  scenario: (root: string) => Scenario,
  agent: { env?: string[]; command?: string; options?: Record<string, unknown> } = {},
) {
  const root = await testdir();
  const server = await suite.serve(scenario(root));
  vi.stubEnv('ANTHROPIC_BASE_URL', server.origin);
  const env = agent.env ?? ['ANTHROPIC_API_KEY'];
  const input = runInput(
    root,
    agentConfig('claude', {
      model: MODEL,
      command: agent.command ?? suite.binary(),
      env: ['ANTHROPIC_BASE_URL', ...env],
      options: agent.options ?? {},
    }),
  );
  return { server, root, input };
}

const modelCalls = (s: FakeModelServer) => s.requests.filter((r) => r.url === '/v1/messages?beta=true');

describe('runClaudeAgent', () => {
  test('writes the report with the Write tool and returns the usage the fake server sent', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, root, input } = await setup(writeReport);
    const { run, heartbeats } = mockActivity();
    const result = await run(runClaudeAgent, input);

    expect(await readFile(join(root, 'report.md'), 'utf8')).toBe('score: 42\n');
    const calls = modelCalls(server);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.headers['x-api-key'])).toEqual(['sk-ant-fake', 'sk-ant-fake']);
    expect(calls[0]!.rawBody).toContain('Write report.md with your score.');
    expect(calls[0]!.rawBody).toContain(
      JSON.stringify(
        renderUnattendedNote({ role: 'EXECUTOR', agent: 'CLAUDE', session: 1, mustWrite: ['report.md'] }),
      ).slice(1, -1),
    );
    expect(result).toMatchObject({
      status: 'exited',
      exitCode: 0,
      signal: null,
      reason: null,
      logPath: `${RUN}.log`,
      usage: { tokensIn: 1020 + 5100 + 350, tokensCached: 5100 + 350, tokensOut: 115, turns: 2 },
      sessionId: calls[0]!.headers['x-claude-code-session-id'],
      finalMessage: 'Wrote report.md with score 42.',
      resetAt: null,
    });
    expect(result.usage.costUsd).toBeCloseTo(sonnetCost(FIRST, SECOND), 12);
    expect(JSON.parse(await readFile(join(root, `${RUN}.json`), 'utf8'))).toEqual(result);
    expect(heartbeats[0]).toMatchObject({ pid: expect.any(Number), host: hostname() });
  });

  test('a retry resumes the session and subtracts the cost the previous attempt reported', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, input } = await setup(writeReport);
    const first = await mockActivity().run(runClaudeAgent, input);
    // The first attempt's process died with its machine: no exit status, nothing to adopt.
    await rm(join(input.root, `${RUN}.exit`));
    const retry = mockActivity({
      pid: 2 ** 22 + 1,
      host: hostname(),
      sessionId: first.sessionId,
      reportedCostUsd: first.usage.costUsd,
    });
    const result = await retry.run(runClaudeAgent, input);

    const calls = modelCalls(server);
    expect(calls).toHaveLength(3);
    expect(calls[2]!.headers['x-claude-code-session-id']).toBe(first.sessionId);
    expect(calls[2]!.rawBody).toContain('"tool_result"');
    expect(calls[2]!.rawBody).toContain('Your previous run of this task was interrupted.');
    expect(result).toMatchObject({
      status: 'exited',
      reason: null,
      sessionId: first.sessionId,
      usage: { tokensIn: 120 + 3100 + 50, tokensCached: 3150, tokensOut: 45, turns: 1 },
    });
    expect(result.usage.costUsd).toBeCloseTo(sonnetCost(SECOND), 12);
  });

  test('a rejected 429 for a subscription token is usage_limit with the reset of the rate_limit_event', async () => {
    vi.stubEnv('CLAUDE_CODE_OAUTH_TOKEN', 'sk-ant-oat-fake');
    const { input } = await setup(() => claudeUsageLimitScenario(1_800_000_030), { env: ['CLAUDE_CODE_OAUTH_TOKEN'] });
    const result = await mockActivity().run(runClaudeAgent, input);
    expect(result).toMatchObject({
      status: 'usage_limit',
      exitCode: 1,
      resetAt: '2027-01-15T08:00:30.000Z',
      reason:
        "usage limit reached (resets 2027-01-15T08:00:30.000Z): You've hit your 5-hour limit · resets Jan 15, 2027, 8am (UTC)",
      usage: { tokensIn: 0, tokensCached: 0, tokensOut: 0, costUsd: 0, turns: 1 },
    });
  });

  test('no credentials for the agent and no login of the worker user is auth_missing with the fix, and nothing is sent', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    vi.stubEnv('CLAUDE_CONFIG_DIR', '');
    // A worker user who never logged in: a HOME without ~/.claude.
    const home = await testdir();
    vi.stubEnv('HOME', home);
    const { server, input } = await setup(writeReport, { env: [] });
    const result = await mockActivity().run(runClaudeAgent, input);
    expect(result).toMatchObject({
      status: 'auth_missing',
      exitCode: null,
      reason: `Claude Code is not logged in: no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or CLAUDE_CODE_OAUTH_TOKEN for the agent and no login in ${home}/.claude; fix: log in once as the worker's user (run \`claude\`, then /login), or set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN from \`claude setup-token\`) in the worker's environment and list it under env`,
      failure: { kind: 'needs_human', code: 'not_logged_in' },
      login: 'none',
    });
    expect(modelCalls(server)).toEqual([]);
  });

  test("a key the API refuses (401) is auth_missing with the API's message", async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-revoked');
    vi.stubEnv('CLAUDE_CODE_MAX_RETRIES', '0');
    const { input } = await setup(() => claudeErrorScenario(401, 'authentication_error', 'invalid x-api-key'), {
      env: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_MAX_RETRIES'],
    });
    const result = await mockActivity().run(runClaudeAgent, input);
    expect(result).toMatchObject({
      status: 'auth_missing',
      exitCode: 1,
      reason: 'the API refused the credentials: Invalid API key · Fix external API key',
    });
  });

  test('spec options reach the CLI: --max-turns 1 ends the run after the tool call', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, root, input } = await setup(writeReport, {
      options: { maxTurns: 1, allowedTools: ['Write', 'Read'], permissionMode: 'acceptEdits' },
    });
    const result = await mockActivity().run(runClaudeAgent, input);
    expect(modelCalls(server)).toHaveLength(1);
    expect(await readFile(join(root, 'report.md'), 'utf8')).toBe('score: 42\n');
    expect(result).toMatchObject({
      status: 'exited',
      exitCode: 1,
      reason: 'error_max_turns: Reached maximum number of turns (1)',
      failure: { kind: 'agent', code: 'max_turns' },
    });
  });

  test('a missing binary is not_installed with the install command', async () => {
    const { input } = await setup(writeReport, { command: '/nonexistent/bin/claude' });
    const result = await mockActivity().run(runClaudeAgent, input);
    expect(result).toMatchObject({
      status: 'not_installed',
      reason:
        '/nonexistent/bin/claude not found: install Claude Code with `npm i -g @anthropic-ai/claude-code@2.1.330`, or set command: to the claude binary in the spec',
    });
  });

  test('cancel kills the whole tree of a CLI hung in a Bash command', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { root, input } = await setup(() => claudeHangScenario(MODEL, 'setsid -w sleep 301 & exec sleep 300'), {
      options: { allowedTools: ['Bash'] },
    });
    const { env, run, heartbeats } = mockActivity();
    const running = run(runClaudeAgent, input);
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
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, input } = await setup(() => claudeHangScenario(MODEL));
    const { run, heartbeats } = mockActivity();
    const running = run(runClaudeAgent, { ...input, timeoutMs: 5000 });
    await waitFor(() => modelCalls(server).length >= 1, 'the first model call');
    const tree = await treeWith(heartbeats, 'claude', 1);
    const result = await running;
    expect(result).toMatchObject({ status: 'timeout', reason: 'per-run time limit reached; process tree killed' });
    expect(survivors(tree)).toEqual([]);
  });

  test('after `skill install --for claude --scope user` Claude loads the skill and sends it to the model', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const configDir = await testdir();
    const installed = await skillInstallCommand(
      { for: 'claude', scope: 'user', env: { CLAUDE_CONFIG_DIR: configDir, HOME: '/nonexistent' } },
      silentOutput,
    );
    expect(installed.target).toBe(join(configDir, 'skills/loop-station'));
    vi.stubEnv('CLAUDE_CONFIG_DIR', configDir);
    const { server, root, input } = await setup(writeReport, { env: ['ANTHROPIC_API_KEY', 'CLAUDE_CONFIG_DIR'] });
    const result = await mockActivity().run(runClaudeAgent, input);
    expect(result.status).toBe('exited');
    const init = JSON.parse(
      (await readFile(join(root, `${RUN}.log`), 'utf8')).split('\n').find((l) => l.includes('"subtype":"init"'))!,
    ) as { skills: string[] };
    expect(init.skills).toContain('loop-station');
    const skill = await readFile(join(installed.target, 'SKILL.md'), 'utf8');
    const description = /^description: (.*)$/m.exec(skill)![1]!;
    expect(modelCalls(server)[0]!.rawBody).toContain(JSON.stringify(`loop-station: ${description}`).slice(1, -1));
  });
});

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('runClaudeAgent: failures, permissions, the unattended note, nudges, threads, images, stalls', () => {
  test('HTTP 529 overloaded is a transient failure', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    vi.stubEnv('CLAUDE_CODE_MAX_RETRIES', '0');
    const { input } = await setup(() => claudeSequence([ANTHROPIC_ERRORS.overloaded]), {
      env: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_MAX_RETRIES'],
    });
    const result = await mockActivity().run(runClaudeAgent, input);
    expect(result).toMatchObject({ status: 'exited', exitCode: 1, failure: { kind: 'transient', code: 'overloaded' } });
  });

  test('a reviewer may run the evidence command; what it may not run is reported as denied', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, root, input } = await setup((r) =>
      claudeSequence([
        claudeUses(MODEL, 'Bash', { command: 'node eval.mjs --json' }),
        claudeUses(MODEL, 'Bash', { command: 'node train.mjs' }),
        claudeUses(MODEL, 'Write', { file_path: join(r, 'review.md'), content: 'verdict: supported\n' }),
        claudeSays(MODEL, 'Reviewed.'),
      ]),
    );
    await writeFile(
      join(root, 'eval.mjs'),
      "import { writeFileSync } from 'node:fs';\nwriteFileSync('evaluated.txt', 'ran\\n');\n",
    );
    await writeFile(
      join(root, 'train.mjs'),
      "import { writeFileSync } from 'node:fs';\nwriteFileSync('trained.txt', 'ran\\n');\n",
    );
    const result = await mockActivity().run(runClaudeAgent, {
      ...input,
      role: 'REVIEWER',
      output: 'review.md',
      evidenceCommand: 'node eval.mjs',
    });
    expect(await readFile(join(root, 'evaluated.txt'), 'utf8')).toBe('ran\n');
    expect(await readdir(root)).not.toContain('trained.txt');
    expect(result).toMatchObject({ status: 'exited', exitCode: 0, permissionDenials: ['Bash: node train.mjs'] });
    expect(modelCalls(server)[0]!.rawBody).toContain(
      JSON.stringify(
        renderUnattendedNote({ role: 'REVIEWER', agent: 'CLAUDE', session: 1, mustWrite: ['review.md'] }),
      ).slice(1, -1),
    );
  });

  test('a reviewer not given the evidence command is denied it, and the denial is in the result', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { root, input } = await setup((r) =>
      claudeSequence([
        claudeUses(MODEL, 'Bash', { command: 'node eval.mjs --json' }),
        claudeUses(MODEL, 'Write', { file_path: join(r, 'review.md'), content: 'verdict: uncertain\n' }),
        claudeSays(MODEL, 'Could not rerun the evaluation.'),
      ]),
    );
    await writeFile(
      join(root, 'eval.mjs'),
      "import { writeFileSync } from 'node:fs';\nwriteFileSync('evaluated.txt', 'ran\\n');\n",
    );
    const result = await mockActivity().run(runClaudeAgent, { ...input, role: 'REVIEWER', output: 'review.md' });
    expect(await readdir(root)).not.toContain('evaluated.txt');
    expect(result).toMatchObject({ status: 'exited', exitCode: 0, permissionDenials: ['Bash: node eval.mjs --json'] });
  });

  test('images are named for the Read tool, which hands the model the image', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, root, input } = await setup((r) =>
      claudeSequence([
        claudeUses(MODEL, 'Read', { file_path: join(r, 'plots/psnr.png') }),
        claudeUses(MODEL, 'Write', { file_path: join(r, 'report.md'), content: 'score: 42\n' }),
        claudeSays(MODEL, 'Looked at the plot.'),
      ]),
    );
    await mkdir(join(root, 'plots'));
    await writeFile(join(root, 'plots/psnr.png'), PNG);
    const result = await mockActivity().run(runClaudeAgent, { ...input, images: ['plots/psnr.png', 'plots/gone.png'] });
    const calls = modelCalls(server);
    expect(calls[0]!.rawBody).toContain(`Images to look at, open each with your Read tool: ${root}/plots/psnr.png.`);
    expect(calls[0]!.rawBody).toContain('Images left out (plots/gone.png: missing)');
    // The Read tool's result is the image itself.
    const second = JSON.parse(calls[1]!.rawBody) as { messages: { content: unknown }[] };
    expect(JSON.stringify(second.messages.at(-1))).toMatch(
      /"type":"image","source":\{"type":"base64","data":"[^"]+","media_type":"image\/png"\}|"type":"image","source":\{"type":"base64","media_type":"image\/png","data":"[^"]+"\}/,
    );
    expect(result.images).toEqual({
      attached: ['plots/psnr.png'],
      omitted: [{ path: 'plots/gone.png', reason: 'missing' }],
    });
  });

  test('a run that ends without its report is nudged once in the same session', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, root, input } = await setup((r) =>
      claudeSequence([
        claudeSays(MODEL, 'Which file should the report go to?', FIRST),
        claudeUses(MODEL, 'Write', { file_path: join(r, 'report.md'), content: 'score: 9\n' }, SECOND),
        claudeSays(MODEL, 'Wrote report.md.', SECOND),
      ]),
    );
    const result = await mockActivity().run(runClaudeAgent, input);
    const calls = modelCalls(server);
    expect(calls).toHaveLength(3);
    const session = calls[0]!.headers['x-claude-code-session-id'];
    expect(calls[1]!.headers['x-claude-code-session-id']).toBe(session);
    expect(calls[1]!.rawBody).toContain('Which file should the report go to?');
    expect(calls[1]!.rawBody).toContain('You stopped without writing report.md; finish the task.');
    expect(await readFile(join(root, 'report.md'), 'utf8')).toBe('score: 9\n');
    expect(result).toMatchObject({
      status: 'exited',
      exitCode: 0,
      nudged: true,
      sessionId: session,
      usage: { tokensOut: 70 + 45 * 2, turns: 1 + 2 },
    });
    expect(result.usage.costUsd).toBeCloseTo(sonnetCost(FIRST, SECOND, SECOND), 12);
  });

  test("resumeThreadId continues a session an earlier session's run started, counting only its own cost", async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, input } = await setup(writeReport);
    const first = await mockActivity().run(runClaudeAgent, input);
    server.setScenario(claudeSequence([claudeSays(MODEL, 'Carried on.', SECOND)]));
    const second = await mockActivity().run(runClaudeAgent, {
      ...input,
      session: 2,
      prompt: 'Carry on with session 2.',
      resumeThreadId: first.sessionId,
    });
    const calls = modelCalls(server);
    expect(calls).toHaveLength(3);
    expect(calls[2]!.headers['x-claude-code-session-id']).toBe(first.sessionId);
    expect(calls[2]!.rawBody).toContain('"tool_result"');
    expect(calls[2]!.rawBody).toContain('Carry on with session 2.');
    expect(second).toMatchObject({ status: 'exited', exitCode: 0, sessionId: first.sessionId });
    expect(second.usage.costUsd).toBeCloseTo(sonnetCost(SECOND), 12);
  });

  test('a run silent for longer than its idle timeout is killed as a stall, its session kept', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const { server, input } = await setup(() => claudeHangScenario(MODEL, 'exec sleep 300'), {
      options: { allowedTools: ['Bash'] },
    });
    const { run, heartbeats } = mockActivity();
    const running = run(runClaudeAgent, { ...input, idleTimeoutMs: 3000 });
    const tree = await treeWith(heartbeats, 'sleep', 1);
    // A silence of the timeout (the CLI's own files count as life), and the kill at most 5 s after it began.
    const { silentMs, killedAfterMs } = await lastLifeThenKill(input.root, tree, 'sleep');
    expect(silentMs).toBeGreaterThanOrEqual(3000 - 100);
    expect(killedAfterMs).toBeLessThan(3000 + 5000);
    const result = await running;
    expect(result).toMatchObject({
      status: 'timeout',
      failure: { kind: 'stall', code: 'idle' },
      sessionId: modelCalls(server)[0]!.headers['x-claude-code-session-id'],
    });
    expect(survivors(tree)).toEqual([]);
  });
});
