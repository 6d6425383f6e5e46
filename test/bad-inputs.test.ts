import { access, cp, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { type LoopStatus, LoopStatusSchema } from '../protocol/schemas/messages.js';
import { cli, run, runCli, runTemporal, writeToySpec } from './helpers/cli.js';
import { toyRoot } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * The bad-input corpus: each folder of test/fixtures/bad-inputs/ holds the files a user gave, the
 * command (case.json: args, exit code), the exact stderr (expected.txt) and, when the command
 * prints findings as data (`validate`), the exact stdout (expected-stdout.txt; else stdout is
 * empty), the temp folder written as <cwd>. Nothing may reach a server: connection commands point at a closed port, so a missed
 * validation would exit 3. Regenerate the expected files after a deliberate wording change with
 * UPDATE_GOLDEN=1.
 */
const corpus = fileURLToPath(new URL('./fixtures/bad-inputs/', import.meta.url));
const cases = (await readdir(corpus)).filter((n) => !n.includes('.')).sort();
const CONNECTING = new Set(['submit', 'approve', 'redirect', 'status', 'stop']);
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('bad input', () => {
  test('the corpus has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  test.for(cases)('%s: a clear error and the right exit code, nothing started', async (name) => {
    const spec = JSON.parse(await readFile(join(corpus, name, 'case.json'), 'utf8')) as {
      args: string[];
      code: number;
    };
    const cwd = await testdir();
    await cp(join(corpus, name), cwd, { recursive: true });
    const args = CONNECTING.has(spec.args[0]!) ? [...spec.args, '--address', '127.0.0.1:1'] : spec.args;
    const ran = await run(process.execPath, cli(args), { cwd });
    // Messages that name the loop root name this run's temp folder: written as <cwd> in the corpus.
    const res = { ...ran, stderr: ran.stderr.replaceAll(cwd, '<cwd>'), stdout: ran.stdout.replaceAll(cwd, '<cwd>') };
    const expectedFile = join(corpus, name, 'expected.txt');
    const stdoutFile = join(corpus, name, 'expected-stdout.txt');
    if (process.env.UPDATE_GOLDEN) {
      await writeFile(expectedFile, res.stderr);
      if (res.stdout !== '' || (await exists(stdoutFile))) await writeFile(stdoutFile, res.stdout);
    }
    const stdout = (await exists(stdoutFile)) ? await readFile(stdoutFile, 'utf8') : '';
    expect({ code: res.code, stderr: res.stderr, stdout: res.stdout }).toEqual({
      code: spec.code,
      stderr: await readFile(expectedFile, 'utf8'),
      stdout,
    });
    // Nothing was written next to the user's files.
    expect((await readdir(cwd)).sort()).toEqual((await readdir(join(corpus, name))).sort());
  });
});

/**
 * Bad input only a running loop can meet: the worker's allowed roots (the temp folder here) and the
 * workflow's own update validators, reached with the real `temporal` binary past our CLI's checks.
 */
describe('bad input that reaches a worker', () => {
  const worker = useTestWorker();
  const allowed = realpath(tmpdir());
  const lastLines = (stderr: string) => stderr.slice(stderr.indexOf('loop-station: '));
  const failedLine = (name: string, reason: string) =>
    `loop-station: loop loop-${name} failed: ${reason}\n  fix: read the failure in the Temporal UI or with \`temporal workflow show -w loop-${name}\`\n`;

  test("a root outside the worker's --allow-root: submit --wait exits 1 naming the root and the allowed one", async () => {
    const dir = await toyRoot();
    const outside = '/loop-station-nowhere';
    const { file, name } = await writeToySpec(dir, worker.taskQueue, { root: outside });
    // submit's setup checks refuse it first, naming both; the worker refuses it too (--skip-checks).
    const refused = await runCli(['submit', file]);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      expect.stringContaining(
        `FAIL root: loop root ${outside} is outside the worker's allowed roots (${await allowed})`,
      ),
    ]);
    const res = await runCli(['submit', file, '--wait', '--skip-checks']);
    expect([res.code, lastLines(res.stderr)]).toEqual([
      1,
      failedLine(
        name,
        `${outside}: not under an allowed output root (${await allowed}); move the loop root there, or start the worker with this root allowed`,
      ),
    ]);
    expect(await exists(outside)).toBe(false);
  });

  test.for([
    ['an existing folder', true],
    ['a folder that does not exist yet', false],
  ] as const)(
    'a root that is a symlink to %s outside the allowed roots is refused and nothing is written there',
    async ([, targetExists]) => {
      const dir = await toyRoot();
      // Outside the worker's allowed root (the temp folder), and a place a missed check could only litter.
      const parent = await mkdtemp('/var/tmp/loop-station-outside-');
      const outside = targetExists ? parent : join(parent, 'not-yet');
      try {
        await symlink(outside, join(dir, 'root-link'));
        // No protected patterns: submit would refuse `eval.mjs` missing from the empty folder before the worker sees the root.
        const { file, name } = await writeToySpec(dir, worker.taskQueue, { root: 'root-link', protected: [] });
        const refused = await runCli(['submit', file]);
        expect([refused.code, refused.stderr]).toEqual([
          1,
          expect.stringContaining("is outside the worker's allowed roots"),
        ]);
        expect(await readdir(parent)).toEqual([]);
        const res = await runCli(['submit', file, '--wait', '--skip-checks']);
        expect([res.code, lastLines(res.stderr)]).toEqual([
          1,
          failedLine(
            name,
            `${join(dir, 'root-link')}: not under an allowed output root (${await allowed}); move the loop root there, or start the worker with this root allowed`,
          ),
        ]);
        expect(await readdir(parent)).toEqual([]);
      } finally {
        await rm(parent, { recursive: true, force: true });
      }
    },
  );

  test('oversize and invalid updates from the temporal CLI are rejected by the workflow; the loop is unchanged and still finishes', async () => {
    // The executor runs until the updates have been refused and the status read again.
    const release = join(await testdir(), 'release');
    const dir = await toyRoot({ 'plan.json': JSON.stringify({ lingerUntil: { 1: release } }) });
    const { file, name } = await writeToySpec(dir, worker.taskQueue, { budget: { sessions: 1, perRun: '30s' } });
    expect((await runCli(['submit', file])).code).toBe(0);
    const running = join(dir, 'loop_station/flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag');
    for (let i = 0; i < 150 && !(await exists(running)); i++) await new Promise((r) => setTimeout(r, 100));
    const status = async () => LoopStatusSchema.parse(JSON.parse((await runCli(['status', name, '--json'])).stdout));
    // A rejected update still runs a (speculative) workflow task, which moves workflow time: only
    // the clock fields may change.
    const unclocked = ({ updatedAt: _at, used: { wallClockMs: _ms, ...used }, ...rest }: LoopStatus) => ({
      ...rest,
      used,
    });
    const before = unclocked(await status());
    const update = (type: string, input: unknown) =>
      runTemporal([
        'workflow',
        'update',
        'execute',
        '-w',
        `loop-${name}`,
        '--name',
        type,
        '--input',
        JSON.stringify(input),
      ]);
    const rejected = await Promise.all([
      update('redirect', { note: 'N'.repeat(4001) }),
      update('pause', { note: 'P'.repeat(100_000) }),
      update('stop', { mode: 'later', reason: 'x' }),
      update('extendBudget', { sessions: 5, secret: 'extra field' }),
    ]);
    // The CLI logs `time=… level=ERROR msg="<the validator's message, Go-quoted>"`.
    const reason = (stderr: string) => JSON.parse(`"${/ msg="(.*)"$/.exec(stderr.trim())?.[1] ?? ''}"`) as string;
    expect(rejected.map((r) => [r.code, reason(r.stderr)])).toEqual([
      [1, 'unable to update workflow: ✖ must be at most 4000 characters\n  → at note (type: Error, retryable: true)'],
      [1, 'unable to update workflow: ✖ must be at most 4000 characters\n  → at note (type: Error, retryable: true)'],
      [
        1,
        'unable to update workflow: ✖ Invalid option: expected one of "now"|"after-session"\n  → at mode (type: Error, retryable: true)',
      ],
      [1, 'unable to update workflow: ✖ Unrecognized key: "secret" (type: Error, retryable: true)'],
    ]);
    expect(unclocked(await status())).toEqual(before);
    await writeFile(release, '');
    const watched = await runCli(['watch', name, '--json']);
    expect(watched.code).toBe(0);
    const ended = await status();
    expect([
      ended.phase,
      ended.stopReason,
      ended.paused,
      ended.stopRequested,
      ended.interventions.filter((i) => i.kind !== 'budget_warning'),
    ]).toEqual(['finished', 'budget_sessions', false, null, []]);
  });
});
