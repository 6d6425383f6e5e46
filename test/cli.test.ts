import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, inject, test } from 'vitest';
import { locateJsonError } from '../cli/spec-file.js';
import { formatElapsed, parseDuration } from '../protocol/duration.js';
import { LoopStatusSchema } from '../protocol/schemas/messages.js';
import { runCli, writeToySpec } from './helpers/cli.js';
import { toySpec, toyRoot } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { waitForFile } from './helpers/waits.js';
import { startTestWorker, type TestWorker, useTestWorker } from './helpers/worker.js';

/** The CLI as a user drives it: files in, a worker somewhere, exit codes out. */
const worker = useTestWorker();

/** The connection flags runCli passes, as the CLI's fix lines repeat them. */
const at = ` --address ${inject('temporalAddress')}`;

const specFile = (root: string, overrides: Record<string, unknown> = {}) =>
  writeToySpec(root, worker.taskQueue, overrides);

describe('loop-station submit', () => {
  test('--wait follows the loop and exits 0; the same id again is refused while it runs', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ sleep: { 1: 2500 } }) });
    const { file, name } = await specFile(root);
    const waiting = runCli(['submit', file, '--wait', '--json']);
    // Running once its executor is (then at least 2.5 s more): a fixed wait could come before the start.
    await waitForFile(join(root, 'loop_station/flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag'));
    const again = await runCli(['submit', file]);
    expect(again.code).toBe(1);
    expect(again.stderr.split('\n')[0]).toBe(`loop-station: loop loop-${name} is already running`);
    const done = await waiting;
    expect(done.code).toBe(0);
    const out = JSON.parse(done.stdout) as {
      workflowId: string;
      root: string;
      result: { stopReason: string; sessions: number };
    };
    expect([out.workflowId, out.root, out.result.stopReason, out.result.sessions]).toEqual([
      `loop-${name}`,
      root,
      'budget_sessions',
      2,
    ]);
    // An ended loop keeps its id and its root: submitted again, under its id or another, nothing starts.
    const rerun = await runCli(['submit', file]);
    expect([rerun.code, rerun.stderr.split('\n')[0]]).toEqual([
      1,
      `loop-station: loop loop-${name} already ran (completed: budget_sessions after 2 sessions): an ended loop ` +
        'keeps its id, its history and its status',
    ]);
    const other = await runCli(['submit', file, '--id', `${name}-again`]);
    expect([other.code, other.stderr.split('\n')[0]]).toEqual([
      1,
      `loop-station: ${basename(file)}: root ${root} already holds loop loop-${name} (loop_station/contract.json): ` +
        'every loop needs a root of its own, and a finished one is never written over',
    ]);
    const status = await runCli(['status', name, '--json']);
    expect(LoopStatusSchema.parse(JSON.parse(status.stdout)).phase).toBe('finished');
    expect((await runCli(['status', `${name}-again`])).code).toBe(1);

    // Started past the CLI (another client), the worker refuses the root and the workflow fails:
    // status says so first, where its last state alone would read as a loop still framing.
    const direct = worker.client.workflow.getHandle(
      (
        await worker.client.workflow.start('loopWorkflow', {
          workflowId: `loop-${name}-direct`,
          taskQueue: worker.taskQueue,
          args: [{ config: { ...toySpec(root, worker.taskQueue), name: `${name}-direct` } }],
        })
      ).workflowId,
    );
    await expect(direct.result()).rejects.toThrow();
    const failed = await runCli(['status', `${name}-direct`]);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(
      new RegExp(`the loop's workflow failed: .*already holds loop loop-${name}.*; it ended without a stop reason`),
    );
    // Its report is not the other loop's: the root it names holds loop-<name>, and it wrote nothing there.
    const report = await runCli(['report', `${name}-direct`]);
    expect([report.code, report.stderr.split('\n').slice(1)]).toEqual([
      1,
      [
        `loop-station: loop-${name}-direct names the root ${root}, but that root holds loop loop-${name} ` +
          `(loop_station/contract.json): loop-${name}-direct wrote nothing there`,
        `  fix: \`loop-station status loop-${name}-direct${at}\` says how it ended; ` +
          `\`loop-station report loop-${name}${at}\` reports the loop that holds it`,
        '',
      ],
    ]);
  });
});

describe('loop-station status while an agent runs', () => {
  test("the elapsed time follows the clock while workflow time stands still; a finished loop shows the workflow's figure", async () => {
    // The executor runs until the test has read the status twice.
    const release = join(await testdir(), 'release');
    const root = await toyRoot({ 'plan.json': JSON.stringify({ lingerUntil: { 1: release } }) });
    const { file, name } = await specFile(root, { budget: { sessions: 1, perRun: '30s' } });
    expect((await runCli(['submit', file])).code).toBe(0);
    await waitForFile(join(root, 'loop_station/flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag'));
    const read = async () => {
      const [text, json] = await Promise.all([runCli(['status', name]), runCli(['status', name, '--json'])]);
      const status = LoopStatusSchema.parse(JSON.parse(json.stdout));
      const lines = text.stdout.split('\n');
      const shown = /^used: \d+ sessions?, ([^,]+),/.exec(lines.find((l) => l.startsWith('used: '))!)![1]!;
      return {
        head: lines[0],
        elapsed: parseDuration(shown === '<1s' ? '0s' : shown)!,
        workflowMs: status.used.wallClockMs,
      };
    };
    const first = await read();
    await new Promise((r) => setTimeout(r, 1500));
    const second = await read();
    expect([first.head, second.head]).toEqual([
      `loop-${name}  executing  session 1/1`,
      `loop-${name}  executing  session 1/1`,
    ]);
    expect(second.workflowMs).toBe(first.workflowMs);
    expect(second.elapsed - first.elapsed).toBeGreaterThanOrEqual(1000); // whole seconds, 1.5 s apart
    await writeFile(release, '');
    expect((await runCli(['watch', name])).code).toBe(0);
    const ended = LoopStatusSchema.parse(JSON.parse((await runCli(['status', name, '--json'])).stdout));
    const card = (await runCli(['status', name])).stdout;
    expect(card.split('\n').find((l) => l.startsWith('used: '))).toBe(
      `used: 1 session, ${formatElapsed(ended.used.wallClockMs)}, 0 tokens, $0.00`,
    );
  });
});

describe('messages to a loop that has ended', () => {
  test('stop and redirect say the loop has ended and how (exit 1); an unknown id is still "no loop"', async () => {
    const root = await toyRoot();
    const { file, name } = await specFile(root, { budget: { sessions: 1, perRun: '30s' } });
    // --wait ends as watch does: how the loop stopped, and its best.
    const waited = await runCli(['submit', file, '--wait']);
    expect([waited.code, waited.stderr.trimEnd().split('\n').at(-1)]).toEqual([
      0,
      expect.stringMatching(/^ended: budget_sessions after 1 session; best \d+ \(session 1\)$/),
    ]);
    const fix =
      `  fix: \`loop-station status loop-${name}${at}\` shows how it ended; ` +
      `\`loop-station fork loop-${name} --from-session N${at}\` continues from one of its sessions`;
    const stop = await runCli(['stop', name]);
    expect([stop.code, stop.stderr]).toEqual([
      1,
      `loop-station: loop loop-${name} has already ended (completed: budget_sessions after 1 session): it takes no more messages\n${fix}\n`,
    ]);
    const redirect = await runCli(['redirect', name, 'try y']);
    expect([redirect.code, redirect.stderr]).toEqual([
      1,
      `loop-station: loop loop-${name} has already ended (completed: budget_sessions after 1 session): it takes no more messages\n${fix}\n`,
    ]);
    const unknown = await runCli(['stop', `${name}-never`]);
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      `loop-station: no loop loop-${name}-never in namespace default\n  fix: list loops with \`loop-station list${at}\`\n`,
    ]);
  });
});

describe('loop-station worker', () => {
  test('an unreachable address fails fast with exit 3 naming it', async () => {
    const res = await runCli(['worker', '--address', '127.0.0.1:1'], { connect: false });
    expect(res.code).toBe(3);
    expect(res.stderr.split('\n')[0]).toMatch(
      /^loop-station: cannot reach Temporal at 127\.0\.0\.1:1 \(namespace default\): /,
    );
  });
});

describe('durable gates across a worker restart', () => {
  test('pause, then approve, survive the worker being replaced', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ sleep: { 1: 1000 } }) });
    const taskQueue = `restart-${process.pid}-${Date.now()}`;
    let first: TestWorker | null = await startTestWorker({ allowRoots: [root], taskQueue });
    const { file, name } = await writeToySpec(root, taskQueue, { askBefore: ['promote'], budget: { sessions: 2 } });
    expect((await runCli(['submit', file])).code).toBe(0);
    expect((await runCli(['pause', name])).code).toBe(0);
    // Wait for the approval gate of session 1, then replace the worker.
    for (let i = 0; i < 100; i++) {
      const s = await runCli(['status', name, '--json']);
      if (s.code === 0 && (JSON.parse(s.stdout) as { pending: { kind: string } | null }).pending?.kind === 'approval')
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await first.stop();
    first = null;
    const second = await startTestWorker({ allowRoots: [root], taskQueue });
    try {
      const approved = await runCli(['approve', name, '--session', '1']);
      expect(approved.code).toBe(0);
      const paused = LoopStatusSchema.parse(JSON.parse((await runCli(['status', name, '--json'])).stdout));
      expect([paused.phase, paused.paused, paused.session]).toEqual(['paused', true, 1]);
      expect((await runCli(['resume', name])).code).toBe(0);
      const result = (await second.client.workflow.getHandle(`loop-${name}`).result()) as {
        history: { class: string }[];
        interventions: { kind: string }[];
      };
      expect(result.history.map((h) => h.class)).toEqual(['promote', 'stop']);
      expect(result.interventions.map((i) => i.kind)).toEqual(['pause', 'approve', 'resume', 'budget_warning']);
    } finally {
      await second.stop();
    }
  });
});

describe('a loop.json that JSON.parse refuses', () => {
  const parses = (text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };

  test('our scanner finds an error exactly when JSON.parse throws (valid JSON with one character changed)', () => {
    const edited = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', '\\', 'x', '0', ' ', '\n', '\t'))
      .map(([json, at, ch]) => {
        const pos = at % (json.length + 1);
        return json.slice(0, pos) + ch + json.slice(pos + (ch === '' ? 1 : at % 2));
      });
    fc.assert(
      fc.property(edited, (text) => {
        expect(locateJsonError(text) === undefined).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });

  test('the line and column are counted from the text, not taken from V8', () => {
    expect(locateJsonError('{\n  "a": 1,\n  b: 2\n}')).toEqual({
      line: 3,
      column: 3,
      problem: 'expected a double-quoted property name, found "b"',
    });
    expect(locateJsonError('[1, 2')).toEqual({
      line: 1,
      column: 6,
      problem: "expected ',' or ']', found the end of the file",
    });
    expect(locateJsonError('{"a": "x\\q"}')).toEqual({
      line: 1,
      column: 10,
      problem: 'expected one of " \\ / b f n r t u after a backslash, found "q"',
    });
  });
});
