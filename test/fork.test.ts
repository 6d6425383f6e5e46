import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, test } from 'vitest';
import { parseDuration } from '../protocol/duration.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { extendBudgetUpdate, statusQuery } from '../workflows/messages.js';
import { runCli } from './helpers/cli.js';
import { runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { useTestWorker } from './helpers/worker.js';

const worker = useTestWorker();

interface Forked {
  workflowId: string;
  root: string;
  sessions: number;
  budget: { sessions: number; wallClockMs: number | null; tokens: number | null; costUsd: number | null };
}

/** Every file under `dir` with its size, mtime and sha256: equal states mean nothing was written. */
async function treeState(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  return Promise.all(
    files.map(async (f) => {
      const s = await stat(f);
      return `${f.slice(dir.length)} ${s.size} ${s.mtimeMs} ${createHash('sha256')
        .update(await readFile(f))
        .digest('hex')}`;
    }),
  );
}

const forkLine = (id: string, root: string, value: number) =>
  `Forked from ${id} at session 001 (${root}); its workspace is this loop's baseline (score ${value} there). Its ledger and decision are in loop_station/forked_from/.`;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('fork', () => {
  test('a new loop starts from session N: its workspace, its value as the baseline, the origin recorded, the redirect applied', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ 1: 7, 2: 3, 3: 9 }) });
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 4 }, reviewers: [] });
    const { workflowId } = await runLoop(worker.client, worker.taskQueue, config);
    const forked = await runCli([
      'fork',
      workflowId,
      '--from-session',
      '1',
      '--name',
      `forked-${process.pid}-${Date.now()}`,
      '--redirect',
      'try the other axis',
      '--json',
    ]);
    expect(forked.code).toBe(0);
    const { workflowId: newId, root: newRoot, sessions, budget } = JSON.parse(forked.stdout) as Forked;
    expect([newRoot, sessions, budget]).toEqual([
      `${root}-fork-001`,
      3,
      { sessions: 3, wallClockMs: null, tokens: null, costUsd: null },
    ]);
    const result = (await worker.client.workflow.getHandle(newId).result()) as LoopResult;
    // Session 1 of the original left x = 7: that is the fork's baseline, and its sessions build on it.
    expect(result.baseline).toBe(7);
    // FRAME.md and the ledger both say where the fork came from.
    expect(await readFile(join(newRoot, 'loop_station/FRAME.md'), 'utf8')).toMatch(
      new RegExp(`^- ${escape(forkLine(workflowId, root, 7))}$`, 'm'),
    );
    expect(await readFile(join(newRoot, 'loop_station/summaries/SESSION_LEDGER.md'), 'utf8')).toMatch(
      new RegExp(`^- \\S+ session 001 fork \\(start\\): ${escape(forkLine(workflowId, root, 7))}$`, 'm'),
    );
    expect(await readFile(join(newRoot, 'loop_station/forked_from/decision.md'), 'utf8')).toMatch(/^class: promote$/m);
    // The original's records as session 1 left them: the baseline and session 1, not sessions 2–4.
    expect(
      (await readFile(join(newRoot, 'loop_station/forked_from/leaderboard.csv'), 'utf8'))
        .split('\n')
        .map((l) => l.split(',')[0]),
    ).toEqual(['session', '000', '001', '']);
    expect(
      (await readFile(join(newRoot, 'loop_station/forked_from/SESSION_LEDGER.md'), 'utf8')).match(/^\| \d{3} \|/gm),
    ).toEqual(['| 000 |', '| 001 |']);
    expect(
      await readFile(join(newRoot, 'loop_station/sessions/session_001/runs/TOY_EXEC-EXECUTOR.prompt.md'), 'utf8'),
    ).toMatch(/^- try the other axis$/m);
    expect(result.interventions.map((i) => i.kind)).toEqual(['fork', 'redirect', 'budget_warning']);
    // The original is untouched.
    expect(await readFile(join(root, 'work/x.txt'), 'utf8')).toBe('10\n');

    // The fork's id is its own: a second fork under it is refused before anything is copied, and
    // `--name loop-x` names the loop loop-x, as submit's --id does.
    const again = await runCli(['fork', workflowId, '--from-session', '1', '--name', newId, '--root', `${root}-b`]);
    expect([again.code, again.stderr.split('\n')[0]]).toEqual([
      1,
      `loop-station: loop ${newId} already ran (completed: budget_sessions after 3 sessions): a fork needs an id of its own`,
    ]);
    expect(await readdir(dirname(root))).not.toContain(basename(`${root}-b`));
    const missing = await runCli(['fork', `${workflowId}-nope`, '--from-session', '1']);
    expect([missing.code, missing.stderr.split('\n')[0]]).toEqual([
      1,
      `loop-station: no loop ${workflowId}-nope in namespace default`,
    ]);
  });

  test('forking a running loop only reads it: the original keeps going, its files unchanged, and the fork gets what session N left of every budget', async () => {
    // Session 2 writes x = 12 and lingers until released: the original's live workspace is then not
    // session 1's candidate (7), and it is still running while the fork is made.
    const release = join(await testdir(), 'release');
    const root = await toyRoot({
      'plan.json': JSON.stringify({ 1: 7, 2: 12, sleep: { 1: 5000 }, lingerUntil: { 2: release } }),
    });
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 3, perRun: '60s', wallClock: '1h', tokens: 5000, costUsd: 2 },
      reviewers: [],
    });
    const workflowId = `loop-fork-running-${process.pid}-${Date.now()}`;
    const original = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId,
      taskQueue: worker.taskQueue,
      args: [{ config }],
    });
    const until = async (what: () => Promise<boolean>) => {
      for (let i = 0; i < 300 && !(await what()); i++) await sleep(100);
    };
    // Raised while session 1's executor sleeps, so its decision.md counts them; raised again in session 2, which the fork must not see.
    await until(async () => (await original.query(statusQuery)).phase === 'executing');
    await original.executeUpdate(extendBudgetUpdate, { args: [{ tokens: 9000, costUsd: 3 }] });
    await until(async () => (await readFile(join(root, 'work/x.txt'), 'utf8')) === '12\n');
    expect(await readFile(join(root, 'work/x.txt'), 'utf8')).toBe('12\n');
    await original.executeUpdate(extendBudgetUpdate, { args: [{ tokens: 20_000, costUsd: 5 }] });

    const before = await treeState(root);
    const forked = await runCli([
      'fork',
      workflowId,
      '--from-session',
      '1',
      '--name',
      `forked-running-${process.pid}-${Date.now()}`,
      '--json',
    ]);
    expect(forked.code).toBe(0);
    expect(await treeState(root)).toEqual(before);
    expect((await original.describe()).status.name).toBe('RUNNING');
    await writeFile(release, '');

    const { workflowId: newId, root: newRoot, budget } = JSON.parse(forked.stdout) as Forked;
    const remaining = /^- wall clock: (\S+)$/m.exec(
      await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8'),
    )![1]!;
    expect(parseDuration(remaining)).toBeLessThan(3_600_000);
    expect(budget).toEqual({ sessions: 2, wallClockMs: parseDuration(remaining), tokens: 9000, costUsd: 3 });
    // The fork's frame lock writes contract.json: read it once its loop has ended, not as fork returns.
    const fork = (await worker.client.workflow.getHandle(newId).result()) as LoopResult;
    const contract = JSON.parse(await readFile(join(newRoot, 'loop_station/contract.json'), 'utf8')) as {
      budget: Record<string, unknown>;
    };
    expect(contract.budget).toMatchObject({
      max_sessions: 2,
      wall_time_limit: remaining,
      per_run_limit: '1m',
      token_limit: 9000,
      cost_limit: 3,
    });
    expect([fork.baseline, fork.sessions]).toEqual([7, 2]);

    const result = (await original.result()) as LoopResult;
    expect(result.history.map((h) => [h.session, h.class])).toEqual([
      [1, 'promote'],
      [2, 'promote'],
      [3, 'stop'],
    ]);
    expect(await readFile(join(root, 'work/x.txt'), 'utf8')).toBe('13\n');
  }, 180_000);

  test('a session without a candidate or without sessions left is refused with the session to fork from instead', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ fail: [2] }) });
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 3 }, reviewers: [] });
    const { workflowId, result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.history.map((h) => [h.session, h.class])).toEqual([
      [1, 'promote'],
      [2, 'return_to_best'],
      [3, 'stop'],
    ]);

    const blocked = await runCli(['fork', workflowId, '--from-session', '2']);
    expect([blocked.code, blocked.stdout, blocked.stderr]).toEqual([
      1,
      '',
      `loop-station: ${workflowId}: session 002 has no candidate variant: its executor did not finish DONE (decision return_to_best)\n` +
        `  fix: fork from session 001, the best as of session 002: ` +
        `\`loop-station fork ${workflowId} --from-session 1 --address ${inject('temporalAddress')}\`\n`,
    ]);
    const last = await runCli(['fork', workflowId, '--from-session', '3']);
    expect([last.code, last.stdout, last.stderr]).toEqual([
      1,
      '',
      `loop-station: ${workflowId}: session 003 left no sessions (${root}/loop_station/sessions/session_003/decision.md, ## Remaining Budget)\n` +
        '  fix: pass --sessions N to give the fork a session budget of its own\n',
    ]);
    for (const n of ['002', '003']) await expect(stat(`${root}-fork-${n}`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
