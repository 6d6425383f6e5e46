import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { runClaudeAgent } from '../activities/agents/claude.js';
import { runCodexAgent } from '../activities/agents/codex.js';
import { agentCliSuite, agentConfig, mockActivity, runInput } from './helpers/agent-runs.js';
import { testdir } from './helpers/testdir.js';
import { claudeToolScenario } from './fixtures/fake-models/anthropic-messages.js';
import {
  chatGptAuthJson,
  chatGptScenario,
  claudeCredentialsJson,
  loginProviderConfig,
} from './fixtures/fake-models/logins.js';
import { codexToolScenario } from './fixtures/fake-models/openai-responses.js';

/**
 * Subscription logins by default: a worker user logged in to Codex (ChatGPT) or Claude Code runs
 * the real CLIs on that login with no spec line for it; an API key the spec lets through still
 * wins; each result says which login it used. Every test runs in a temporary HOME (the worker
 * user), with the fake logins the CLIs' own files hold (test/fixtures/fake-models/logins.ts).
 */

const codex = agentCliSuite('codex');
const claude = agentCliSuite('claude');

const RUNS = 'loop_station/sessions/session_001/runs';
const ACCOUNT = 'acct-research-1';

async function workerHome(): Promise<string> {
  const home = await testdir();
  vi.stubEnv('HOME', home);
  for (const name of [
    'CODEX_HOME',
    'CODEX_API_KEY',
    'CLAUDE_CONFIG_DIR',
    'ANTHROPIC_API_KEY',
    'CLAUDE_CODE_OAUTH_TOKEN',
  ])
    vi.stubEnv(name, '');
  return home;
}

async function codexLogin(home: string, expiresInSeconds: number) {
  await mkdir(join(home, '.codex'), { recursive: true });
  const auth = chatGptAuthJson({ accountId: ACCOUNT, refreshToken: 'rt-generation-1', expiresInSeconds });
  await writeFile(join(home, '.codex', 'auth.json'), auth.json, { mode: 0o600 });
  return auth;
}

const writeReport = codexToolScenario({
  command: "printf 'score: 7\\n' > report.md",
  finalText: 'Wrote report.md.',
  usage: [
    { input: 1000, cached: 0, output: 50, reasoning: 0 },
    { input: 1100, cached: 1000, output: 20, reasoning: 0 },
  ],
});

async function codexRun(env: string[], config: Record<string, string>) {
  const root = await testdir();
  const input = runInput(
    root,
    agentConfig('codex', { model: 'fake-model', command: codex.binary(), env, options: { config } }),
  );
  return { root, input, result: await mockActivity().run(runCodexAgent, input) };
}

describe('Codex on the worker user’s ChatGPT login', () => {
  test('runs on ~/.codex/auth.json without a spec line; the run keeps its own CODEX_HOME, linked to that login', async () => {
    const home = await workerHome();
    const { accessToken } = await codexLogin(home, 10 * 86_400);
    const server = await codex.serve(chatGptScenario(writeReport, { accountId: ACCOUNT, refreshToken: 'rt-2' }));
    const { root, result } = await codexRun([], loginProviderConfig(server.origin));

    expect(result).toMatchObject({ status: 'exited', exitCode: 0, reason: null, login: 'subscription' });
    expect(result.cliVersion).toBe('0.169.0');
    expect(result.model).toBe('fake-model');
    expect(await readFile(join(root, 'report.md'), 'utf8')).toBe('score: 7\n');
    // What a logged-in Codex sends: the model list first, then the turn, all on the login's token.
    // Codex may fetch the model list again on its own schedule (seen once in CI under load).
    const sent = server.requests.map((r) => `${r.method} ${r.url.replace(/\?.*/, '')}`);
    expect(sent[0]).toBe('GET /v1/models');
    expect(sent.filter((line) => line !== 'GET /v1/models')).toEqual(['POST /v1/responses', 'POST /v1/responses']);
    for (const r of server.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${accessToken}`);
      expect(r.headers['chatgpt-account-id']).toBe(ACCOUNT);
    }
    // The run's own state folder: its rollout lives there, the login is the user's file itself.
    const runHome = join(root, RUNS, 'CODEX-EXECUTOR.codex-home');
    expect(await readlink(join(runHome, 'auth.json'))).toBe(join(home, '.codex', 'auth.json'));
    expect((await readdir(join(runHome, 'sessions'), { recursive: true })).some((f) => f.endsWith('.jsonl'))).toBe(
      true,
    );
    expect((await readdir(join(home, '.codex'))).filter((f) => f !== 'auth.json' && f !== 'auth.lock')).toEqual([]);
  });

  test("a token refreshed during a run is written back to the user's auth.json: one token chain, never a fork", async () => {
    const home = await workerHome();
    // Expires within Codex's five-minute window: it refreshes before its first request.
    await codexLogin(home, 60);
    const server = await codex.serve(
      chatGptScenario(writeReport, { accountId: ACCOUNT, refreshToken: 'rt-generation-2' }),
    );
    vi.stubEnv('CODEX_REFRESH_TOKEN_URL_OVERRIDE', `${server.origin}/oauth/token`);
    const { root, result } = await codexRun(['CODEX_REFRESH_TOKEN_URL_OVERRIDE'], loginProviderConfig(server.origin));

    expect(result).toMatchObject({ status: 'exited', exitCode: 0, login: 'subscription' });
    const refresh = server.requests.filter((r) => r.url.startsWith('/oauth/token'));
    expect(refresh.map((r) => (r.body as { refresh_token?: string }).refresh_token)).toEqual(['rt-generation-1']);
    const userAuth = JSON.parse(await readFile(join(home, '.codex', 'auth.json'), 'utf8')) as {
      tokens: { refresh_token: string };
    };
    expect(userAuth.tokens.refresh_token).toBe('rt-generation-2');
    expect((await lstat(join(root, RUNS, 'CODEX-EXECUTOR.codex-home', 'auth.json'))).isSymbolicLink()).toBe(true);
  });

  test('an API key the spec lets through wins over the login', async () => {
    const home = await workerHome();
    await codexLogin(home, 10 * 86_400);
    const server = await codex.serve(writeReport);
    vi.stubEnv('FAKE_KEY', 'sk-fake-key-123');
    const { result } = await codexRun(['FAKE_KEY'], {
      ...loginProviderConfig(server.origin),
      'model_providers.fakegpt.requires_openai_auth': 'false',
      'model_providers.fakegpt.env_key': '"FAKE_KEY"',
    });
    expect(result).toMatchObject({ status: 'exited', exitCode: 0, login: 'api_key' });
    expect(new Set(server.requests.map((r) => r.headers.authorization))).toEqual(new Set(['Bearer sk-fake-key-123']));
  });
});

const CLAUDE_MODEL = 'claude-sonnet-4-5';
const claudeWrites = (root: string) =>
  claudeToolScenario({
    model: CLAUDE_MODEL,
    tool: { name: 'Write', input: { file_path: join(root, 'report.md'), content: 'score: 9\n' } },
    finalText: 'Wrote report.md.',
    usage: [
      { input: 100, cacheRead: 0, cacheWrite: 0, output: 10 },
      { input: 120, cacheRead: 0, cacheWrite: 0, output: 12 },
    ],
  });

async function claudeRun(root: string, env: string[]) {
  const input = runInput(
    root,
    agentConfig('claude', { model: CLAUDE_MODEL, command: claude.binary(), env: ['ANTHROPIC_BASE_URL', ...env] }),
  );
  return mockActivity().run(runClaudeAgent, input);
}

describe('Claude Code on the worker user’s login', () => {
  test("runs on ~/.claude/.credentials.json without a spec line, in the user's own config folder", async () => {
    const home = await workerHome();
    await mkdir(join(home, '.claude'), { recursive: true });
    await writeFile(join(home, '.claude', '.credentials.json'), claudeCredentialsJson('sk-ant-oat01-fake-login'));
    const root = await testdir();
    const server = await claude.serve(claudeWrites(root));
    vi.stubEnv('ANTHROPIC_BASE_URL', server.origin);
    const result = await claudeRun(root, []);

    expect(result).toMatchObject({ status: 'exited', exitCode: 0, reason: null, login: 'subscription' });
    expect(result.cliVersion).toBe('2.1.330');
    expect(await readFile(join(root, 'report.md'), 'utf8')).toBe('score: 9\n');
    const calls = server.requests.filter((r) => r.url.startsWith('/v1/messages'));
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.headers.authorization).toBe('Bearer sk-ant-oat01-fake-login');
      expect(call.headers['x-api-key']).toBeUndefined();
      expect(String(call.headers['anthropic-beta'])).toContain('oauth-2025-04-20');
    }
    // The conversation went where the login lives: the user's folder, not a per-run one.
    expect(
      (await readdir(join(home, '.claude', 'projects'), { recursive: true })).some((f) => f.endsWith('.jsonl')),
    ).toBe(true);
  });

  test('ANTHROPIC_API_KEY let through by the spec wins over the login, in a config folder of its own', async () => {
    const home = await workerHome();
    await mkdir(join(home, '.claude'), { recursive: true });
    await writeFile(join(home, '.claude', '.credentials.json'), claudeCredentialsJson('sk-ant-oat01-fake-login'));
    const root = await testdir();
    const server = await claude.serve(claudeWrites(root));
    vi.stubEnv('ANTHROPIC_BASE_URL', server.origin);
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-api-key');
    const result = await claudeRun(root, ['ANTHROPIC_API_KEY']);

    expect(result).toMatchObject({ status: 'exited', exitCode: 0, login: 'api_key' });
    const calls = server.requests.filter((r) => r.url.startsWith('/v1/messages'));
    expect(new Set(calls.map((c) => c.headers['x-api-key']))).toEqual(new Set(['sk-ant-api-key']));
    expect(calls.every((c) => c.headers.authorization === undefined)).toBe(true);
    expect((await readdir(join(root, RUNS, 'CLAUDE-EXECUTOR.claude'))).length).toBeGreaterThan(0);
  });
});
