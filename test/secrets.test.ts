import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterEach, describe, expect, test } from 'vitest';
import { cliEnvironment, durableRun, launchCli, prepareCliRun } from '../activities/agents/cli-run.js';
import { resolveInRoot } from '../activities/paths.js';
import { agentConfig, mockActivity, runInput } from './helpers/agent-runs.js';
import { node, runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { useTestWorker } from './helpers/worker.js';

const worker = useTestWorker();

/** A workflow's history as JSON text with every payload decoded (its toJSON writes them in base64). */
async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return JSON.stringify(history, (_key, value: unknown) => {
    const payload = value as { metadata?: unknown; data?: unknown } | null;
    if (payload && typeof payload === 'object' && 'metadata' in payload && typeof payload.data === 'string') {
      return { ...payload, data: Buffer.from(payload.data, 'base64').toString('utf8') };
    }
    return value;
  });
}

afterEach(() => {
  delete process.env.LS_TEST_SECRET;
});

describe('secrets in agent output', () => {
  test('a key the executor prints and reports never reaches the histories or the result file: each copy reads [redacted:NAME]', async () => {
    const secret = `sk-test-${randomUUID()}`;
    process.env.LS_TEST_SECRET = secret;
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      env: ['LS_TEST_SECRET'],
      // An evaluator that prints the key too, to its stderr log.
      evidence: {
        command: `${JSON.stringify(process.execPath)} eval.mjs && echo "eval saw $LS_TEST_SECRET" >&2`,
        metric: 'score',
        direction: 'maximize',
        protect: ['guard >= 1'],
      },
      executor: { name: 'toy_exec', agent: 'shell', command: node('leaky-executor.mjs', 'LS_TEST_SECRET') },
      // A reviewer that puts the key into its digest for the executor, which the engine reads into history.
      reviewers: [
        {
          name: 'toy_rev',
          agent: 'shell',
          required: true,
          env: ['LS_TEST_SECRET'],
          command: `${node('toy-reviewer.mjs')} && sed -i "/^## Historical Trend/{n;s/^checked$/checked with $LS_TEST_SECRET/}" "$LOOP_STATION_OUTPUT"`,
        },
      ],
    });
    const { workflowId } = await runLoop(worker.client, worker.taskQueue, config);

    const session = await historyText(worker.client, `${workflowId}/session-001`);
    const loop = await historyText(worker.client, workflowId);
    expect([session.includes(secret), loop.includes(secret)]).toEqual([false, false]);
    expect(session).toContain('the key is [redacted:LS_TEST_SECRET]');
    expect(session).toContain('stderr: LS_TEST_SECRET=[redacted:LS_TEST_SECRET]');
    expect(session).toContain('failed once because [redacted:LS_TEST_SECRET] was refused');
    expect(session).toContain('checked with [redacted:LS_TEST_SECRET]');

    const runs = join(root, 'loop_station/sessions/session_001/runs');
    const result = JSON.parse(await readFile(join(runs, 'TOY_EXEC-EXECUTOR.json'), 'utf8')) as {
      stdoutTail: string;
      stderrTail: string;
    };
    expect([result.stdoutTail, result.stderrTail]).toEqual([
      'the key is [redacted:LS_TEST_SECRET]\n',
      'stderr: LS_TEST_SECRET=[redacted:LS_TEST_SECRET]\n',
    ]);
    // The logs the evidence pack points the supervisor and the reviewers at hold the marker, not the key.
    const logs = ['TOY_EXEC-EXECUTOR.log', 'TOY_EXEC-EXECUTOR.stderr.log', 'evidence.stderr.log'];
    const texts = await Promise.all(logs.map((f) => readFile(join(runs, f), 'utf8')));
    expect(texts.map((t) => t.includes(secret))).toEqual([false, false, false]);
    expect(texts[0]).toContain('the key is [redacted:LS_TEST_SECRET]\n');
    expect(texts[1]).toContain('stderr: LS_TEST_SECRET=[redacted:LS_TEST_SECRET]\n');
    expect(texts[2]).toContain('eval saw [redacted:LS_TEST_SECRET]\n');
  });

  test('heartbeat details of an agent CLI carry what its event stream said, redacted', async () => {
    const secret = `sk-test-${randomUUID()}`;
    process.env.LS_TEST_SECRET = secret;
    // A stand-in CLI whose one JSONL event is named after the key, then alive for a few heartbeats.
    const root = await testdir({
      'cli.mjs': 'console.log(JSON.stringify({ type: process.env.LS_TEST_SECRET }));\nsetTimeout(() => {}, 1500);\n',
    });
    const input = runInput(root, agentConfig('codex', { env: ['LS_TEST_SECRET'] }));
    const mock = mockActivity();
    await mock.run(async () => {
      const files = await prepareCliRun(input);
      let lastEvent: string | null = null;
      return launchCli({
        input,
        files,
        binary: process.execPath,
        args: [join(root, 'cli.mjs')],
        env: cliEnvironment(input, files),
        startedMs: Date.now(),
        graceMs: 100,
        durable: durableRun(resolveInRoot(root, files.base)),
        prior: null,
        onEvent: (event) => (lastEvent = String(event.type)),
        progress: () => ({
          events: lastEvent ? 1 : 0,
          lastEvent,
          sessionId: null,
          tokensIn: 0,
          tokensOut: 0,
          reportedCostUsd: null,
        }),
      });
    }, undefined);
    expect(JSON.stringify(mock.heartbeats).includes(secret)).toBe(false);
    expect(mock.heartbeats.at(-1)?.lastEvent).toBe('[redacted:LS_TEST_SECRET]');
  });
});
