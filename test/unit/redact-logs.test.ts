import { randomUUID } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { finishRun, prepareCliRun } from '../../activities/agents/cli-run.js';
import { redactLogs } from '../../activities/agents/redact-logs.js';
import { secretRedactor } from '../../activities/agents/redact.js';
import { ZERO_USAGE } from '../../protocol/schemas/agent-result.js';
import { agentConfig, runInput } from '../helpers/agent-runs.js';
import { testdir } from '../helpers/testdir.js';

/** The run logs the next agents are pointed at lose the run's secrets as it ends. */

const roots: string[] = [];
afterEach(async () => {
  delete process.env.LS_TEST_SECRET;
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

describe('redactLogs', () => {
  test('replaces the secrets in place, keeps bytes that are not UTF-8, leaves clean and missing logs alone', async () => {
    const secret = `sk-test-${randomUUID()}`;
    process.env.LS_TEST_SECRET = secret;
    const root = await testdir({ 'runs/clean.log': 'nothing here\n' });
    roots.push(root);
    await writeFile(
      join(root, 'runs/a.log'),
      Buffer.concat([Buffer.from(`key ${secret}\n`), Buffer.from([0xff, 0x0a])]),
    );
    const before = (await stat(join(root, 'runs/clean.log'))).mtimeMs;
    await redactLogs(root, ['runs/a.log', 'runs/clean.log', 'runs/none.log'], secretRedactor(['LS_TEST_SECRET']));
    expect(await readFile(join(root, 'runs/a.log'))).toEqual(
      Buffer.concat([Buffer.from('key [redacted:LS_TEST_SECRET]\n'), Buffer.from([0xff, 0x0a])]),
    );
    expect((await stat(join(root, 'runs/clean.log'))).mtimeMs).toBe(before);
  });

  test("finishRun redacts the run's output, stderr and Codex's last message before it returns", async () => {
    const secret = `sk-test-${randomUUID()}`;
    process.env.LS_TEST_SECRET = secret;
    const root = await testdir({});
    roots.push(root);
    const input = runInput(root, agentConfig('codex', { env: ['LS_TEST_SECRET'] }));
    const files = await prepareCliRun(input);
    const paths = [files.log, files.stderr, `${files.base}.last-message.txt`];
    for (const p of paths) await writeFile(join(root, p), `printed ${secret}\n`);
    await finishRun(input, files, {
      status: 'exited',
      exitCode: 0,
      signal: null,
      durationMs: 1,
      reason: null,
      stdoutTail: '',
      stderrTail: '',
      logPath: files.log,
      usage: ZERO_USAGE,
      sessionId: null,
      finalMessage: null,
      resetAt: null,
    });
    const texts = await Promise.all(paths.map((p) => readFile(join(root, p), 'utf8')));
    expect(texts).toEqual(paths.map(() => 'printed [redacted:LS_TEST_SECRET]\n'));
  });
});
