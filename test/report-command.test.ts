import { mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { reportCommand } from '../cli/commands/report.js';
import { ExitError } from '../cli/exit-codes.js';
import type { Output } from '../cli/output.js';
import { runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { reportFixture } from './helpers/report-fixture.js';
import { testdir } from './helpers/testdir.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

/** `loop-station report` as the CLI runs it: targets, output paths, formats, errors, and a loop id on a real server. */

function capture(json = false): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    json,
    color: false,
    out,
    err,
    data: (t) => out.push(t),
    json_: (v) => out.push(JSON.stringify(v)),
    log: (t) => err.push(t),
  };
}

async function failure(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExitError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an ExitError');
}

const dirs: string[] = [];
let worker: TestWorker;
beforeAll(async () => {
  worker = await startTestWorker({ allowRoots: [await realpath(tmpdir())] });
});
afterAll(async () => {
  await worker?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('report targets and outputs', () => {
  test('a folder gives <root>/loop_station/report.html; stdout holds the path, stderr the summary', async () => {
    const root = await reportFixture('engine-denoise');
    dirs.push(root);
    const out = capture();
    const result = await reportCommand({ target: root }, out);
    expect(result).toEqual({
      path: join(root, 'loop_station/report.html'),
      format: 'html',
      root,
      sessions: 12,
      metric: 'psnr',
      best: { session: 9, value: 30.0242 },
      stopReason: 'budget_sessions',
    });
    expect(out.out).toEqual([result.path]);
    expect(out.err).toEqual(['report of 12 sessions, best psnr 30.0242 at session 009']);
    expect(await readFile(result.path, 'utf8')).toMatch(/^<!doctype html>/);
  });

  test('--format md and --out: Markdown where asked, links relative to it; --json prints the result only', async () => {
    const root = await reportFixture('engine-denoise');
    dirs.push(root);
    const out = capture(true);
    const result = await reportCommand({ target: join(root, 'loop_station'), out: join(root, 'out/summary.md') }, out);
    expect(result.format).toBe('md');
    expect(out.out).toEqual([JSON.stringify(result)]);
    expect(out.err).toEqual([]);
    const md = await readFile(join(root, 'out/summary.md'), 'utf8');
    expect(md).toContain('[decision](../loop_station/sessions/session_009/decision.md)');
    const quiet = capture();
    await reportCommand({ target: root, format: 'md' }, quiet, { quiet: true });
    expect([quiet.out, quiet.err]).toEqual([[], []]);
    expect(await readFile(join(root, 'loop_station/report.md'), 'utf8')).toContain(
      '[decision](../loop_station/sessions/session_009/decision.md)',
    );
  });
});

describe('report errors name the problem and the fix', () => {
  test('a folder without loop_station/', async () => {
    const dir = await testdir({ 'notes.txt': 'x' });
    dirs.push(dir);
    expect(await failure(reportCommand({ target: dir }, capture()))).toEqual({
      code: 2,
      message: `${dir}: no loop_station/ folder here\n  fix: pass the loop root (the folder holding loop_station/), its loop_station/ folder, or a loop id`,
    });
    expect(await failure(reportCommand({ target: join(dir, 'notes.txt') }, capture()))).toEqual({
      code: 2,
      message: `${join(dir, 'notes.txt')} is a file, not a loop folder\n  fix: pass the loop root (the folder holding loop_station/), its loop_station/ folder, or a loop id`,
    });
    expect(await failure(reportCommand({ target: join(dir, 'missing') }, capture()))).toEqual({
      code: 2,
      message: `${join(dir, 'missing')}: no such folder\n  fix: pass an existing loop root or its loop_station/ folder, or a loop id (see \`loop-station list\`)`,
    });
  });

  test('a bad --format or an --out that is a folder', async () => {
    const root = await reportFixture('original-ledger');
    dirs.push(root);
    expect(await failure(reportCommand({ target: root, format: 'pdf' as 'md' }, capture()))).toEqual({
      code: 2,
      message: '--format pdf: must be html or md\n  fix: pass --format html (the default) or --format md',
    });
    await mkdir(join(root, 'out'));
    expect((await failure(reportCommand({ target: root, out: join(root, 'out') }, capture()))).message).toBe(
      `--out ${join(root, 'out')}: is a folder\n  fix: give a file path, such as ${join(root, 'out', 'report.html')}`,
    );
    // A path through a file cannot be written: said as such, and no temporary file is left.
    await writeFile(join(root, 'afile'), 'x');
    const through = join(root, 'afile', 'sub', 'r.html');
    expect(await failure(reportCommand({ target: root, out: through }, capture()))).toEqual({
      code: 1,
      message:
        `--out ${through}: cannot write the report (ENOTDIR: a part of the path is a file, not a folder)\n` +
        '  fix: give a path in a folder you can write to, such as one under the loop root',
    });
    // Where no folder can be made (procfs), it fails at once: Node's recursive mkdir there never returns.
    expect(await failure(reportCommand({ target: root, out: '/proc/no-such/sub/r.html' }, capture()))).toEqual({
      code: 1,
      message:
        '--out /proc/no-such/sub/r.html: cannot write the report (ENOENT: a folder on the path cannot be created there)\n' +
        '  fix: give a path in a folder you can write to, such as one under the loop root',
    });
  });

  test('a loop id the server does not know', async () => {
    const flags = { address: inject('temporalAddress'), namespace: inject('temporalNamespace') };
    expect(await failure(reportCommand({ target: 'no-such-loop-for-report', ...flags }, capture()))).toEqual({
      code: 1,
      message:
        'no-such-loop-for-report: no such folder, and no loop loop-no-such-loop-for-report in namespace default\n' +
        `  fix: pass the loop's folder, or find its id with \`loop-station list --address ${flags.address} --namespace default\``,
    });
  });
});

describe('report of a loop id', () => {
  test('the status query names the root; the report comes from its files', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ 2: 3 }) });
    dirs.push(root);
    const { workflowId, result } = await runLoop(
      worker.client,
      worker.taskQueue,
      toySpec(root, worker.taskQueue, { budget: { sessions: 2, perRun: '30s' } }),
    );
    const out = capture();
    const report = await reportCommand(
      { target: workflowId.replace(/^loop-/, ''), address: worker.address, namespace: worker.namespace },
      out,
    );
    expect(report).toMatchObject({
      path: join(root, 'loop_station/report.html'),
      sessions: 2,
      metric: 'score',
      best: result.best,
      stopReason: result.stopReason,
    });
    expect(out.err[0]).toBe(`${workflowId}: folder ${root}`);
    const html = await readFile(report.path, 'utf8');
    expect(html.match(/<circle class="point /g)).toHaveLength(3);
    expect(html).toContain(`data-last-value="${result.best!.value}"`);
  });

  test('a root that is not on this machine', async () => {
    const root = await toyRoot();
    dirs.push(root);
    const { workflowId } = await runLoop(
      worker.client,
      worker.taskQueue,
      toySpec(root, worker.taskQueue, { budget: { sessions: 1, perRun: '30s' } }),
    );
    await rm(join(root, 'loop_station'), { recursive: true });
    await writeFile(join(root, 'moved.txt'), 'the folder went elsewhere');
    expect(
      await failure(
        reportCommand({ target: workflowId, address: worker.address, namespace: worker.namespace }, capture()),
      ),
    ).toEqual({
      code: 1,
      message: `${workflowId} writes to ${root}, but there is no loop_station/ folder there on this machine\n  fix: run the report where the loop's folder is, or copy the folder here and pass its path`,
    });
  });
});
