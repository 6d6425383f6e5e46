import { mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { claudeArgs } from '../activities/agents/claude.js';
import { codexArgs } from '../activities/agents/codex.js';
import { AGENT_CLIS, type AgentCliName } from '../activities/agents/cli-versions.js';
import { CLI_MESSAGE_CASES, type CliMessageCase } from '../test/fixtures/cli-messages/cases.js';
import { startFakeModelServer } from '../test/fixtures/fake-models/server.js';
import { fakeProviderConfig } from '../test/fixtures/fake-models/openai-responses.js';
import { ensureAgentCli } from '../test/helpers/agent-clis.js';

/**
 * `npx tsx scripts/capture-cli-messages.ts [case…]`: runs the pinned Codex CLI and Claude Code
 * against the fake model servers answering with the real APIs' error shapes, and writes what each
 * printed into test/fixtures/cli-messages/<cli>-<version>/<case>.{jsonl,stderr.txt,json}: the corpus
 * the adapters' failure classes are tested on (test/unit/cli-messages.test.ts). Rerun it when a pin
 * moves; the loop root and the server's port are replaced by `<root>` and `<origin>`.
 */

const KEY = 'FAKE_CODEX_KEY';
const corpusDir = (cli: AgentCliName) =>
  join(import.meta.dirname, '..', 'test/fixtures/cli-messages', `${cli}-${AGENT_CLIS[cli].version}`);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function capture(c: CliMessageCase, binary: string): Promise<void> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'cli-messages-')));
  const server = await startFakeModelServer(c.scenario(root));
  const origin = c.deadServer ? `http://127.0.0.1:${await closedPort()}` : server.origin;
  const state = join(root, 'state');
  await mkdir(state);
  const base = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    TZ: 'UTC',
  };
  let args: string[];
  let env: Record<string, string>;
  if (c.cli === 'codex') {
    const config = { ...fakeProviderConfig(origin, KEY), ...c.config };
    args = codexArgs({
      root,
      model: 'fake-model',
      config,
      lastMessageFile: join(root, 'last-message.txt'),
      prompt: c.prompt ?? 'Write report.md with your score.',
    });
    env = { ...base, CODEX_HOME: state, ...(c.noKey ? {} : { [KEY]: 'sk-fake-codex' }) };
  } else {
    args = claudeArgs({
      model: 'claude-fake',
      roleNote: 'You run unattended.',
      prompt: c.prompt ?? 'Write report.md with your score.',
      allowedTools: c.allowedTools,
      permissionMode: c.permissionMode,
    });
    env = {
      ...base,
      CLAUDE_CONFIG_DIR: state,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ANTHROPIC_BASE_URL: origin,
      CLAUDE_CODE_MAX_RETRIES: '1',
      ...(c.noKey
        ? {}
        : c.oauth
          ? { CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat-fake' }
          : { ANTHROPIC_API_KEY: 'sk-ant-fake' }),
    };
  }
  if (c.args) args = c.args(args);
  const run = await execa(binary, args, {
    cwd: root,
    env: { ...env, ...c.env },
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    timeout: c.timeoutMs ?? 60_000,
    killSignal: 'SIGTERM',
  });
  await server.close();
  const scrub = (text: string) => text.replaceAll(root, '<root>').replaceAll(origin, '<origin>');
  const dir = corpusDir(c.cli);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${c.name}.jsonl`), scrub(String(run.stdout)) + '\n');
  await writeFile(join(dir, `${c.name}.stderr.txt`), scrub(String(run.stderr)) + '\n');
  await writeFile(
    join(dir, `${c.name}.json`),
    `${JSON.stringify({ case: c.name, about: c.about, exitCode: run.exitCode ?? null, signal: run.signal ?? null, modelCalls: server.requests.filter((r) => r.method === 'POST').length }, null, 2)}\n`,
  );
  process.stdout.write(`${c.cli} ${c.name}: exit ${String(run.exitCode)} ${run.signal ?? ''}\n`);
  await rm(root, { recursive: true, force: true });
}

const only = process.argv.slice(2);
const cases = CLI_MESSAGE_CASES.filter((c) => only.length === 0 || only.includes(c.name) || only.includes(c.cli));
const binaries: Partial<Record<AgentCliName, string>> = {};
for (const c of cases) {
  binaries[c.cli] ??= (await ensureAgentCli(c.cli)).path;
  await capture(c, binaries[c.cli]!);
}
// Files of cases that no longer exist would be classified against nothing: drop them.
if (only.length === 0)
  for (const cli of ['codex', 'claude'] as const)
    for (const file of await readdir(corpusDir(cli)).catch(() => []))
      if (!CLI_MESSAGE_CASES.some((c) => c.cli === cli && file.startsWith(`${c.name}.`)))
        await rm(join(corpusDir(cli), file));
