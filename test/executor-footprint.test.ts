import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import { FIXTURE_AGENTS, flagsInOrder, node, runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { statusAfterEnd } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

/** What an executor changes beyond its own files, on a real server (docs/protocol.md#executor-footprint). */
const worker = useTestWorker();

const read = (root: string, rel: string) => readFile(join(root, rel), 'utf8');

async function footprintRoot(plan: Record<string, string>): Promise<string> {
  const root = await toyRoot({ 'configs/base.yaml': 'lr: 0.00016\n', 'plan.json': JSON.stringify(plan) });
  await copyFile(join(FIXTURE_AGENTS, 'footprint-eval.mjs'), join(root, 'eval.mjs'));
  return root;
}

const spec = (root: string, workspace: string[], scratch?: string[]) =>
  toySpec(root, worker.taskQueue, {
    budget: { sessions: 2 },
    reviewers: [],
    workspace,
    ...(scratch ? { scratch } : {}),
    executor: { name: 'toy_exec', agent: 'shell', command: node('footprint-executor.mjs') },
  });

describe('executor footprint', () => {
  test('a better value from files outside the workspace alone is recorded, not promoted: a best must be restorable', async () => {
    const root = await footprintRoot({ 1: 'outside', 2: 'work' });
    // `config/*.yaml`: the probe's typo, so the executor's edit of configs/base.yaml is outside the workspace.
    const { result } = await runLoop(worker.client, worker.taskQueue, spec(root, ['config/*.yaml', 'work/**']));
    expect(result.history.map((h) => [h.session, h.class, h.best])).toEqual([
      [1, 'needs_more_evidence', 0.16],
      [2, 'stop', 5],
    ]);
    expect(await flagsInOrder(root, 1)).toEqual([
      'TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag',
      'TOY_EXEC-SESSION001-EXECUTOR-DONE.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-VIOLATION.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-REPAIRED.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-RUNNING.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-DONE.flag',
    ]);
    expect(
      await read(root, 'loop_station/flags/session_001/LOOP_STATION-SESSION001-SUPERVISOR-VIOLATION.flag'),
    ).toMatch(/^code: CHANGED_OUTSIDE_WORKSPACE\nsubject: configs\/base\.yaml scratch_notes\.txt$/m);
    expect((await read(root, 'loop_station/sessions/session_001/supervisor_analysis.md')).split('\n')).toContain(
      '- changed outside the workspace (not in the candidate variant, not restorable): configs/base.yaml, ' +
        'scratch_notes.txt; no workspace file changed',
    );
    expect(await read(root, 'loop_station/sessions/session_001/decision.md')).toContain(
      'rule 5: 4 beats best 0.16 (session 000), but the executor changed no workspace file, only files outside it ' +
        '(configs/base.yaml, scratch_notes.txt): a promoted variant could not be restored',
    );
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test("an executor that forges the leaderboard and an earlier decision.md is BLOCKED, recorded, and the engine's files are put back", async () => {
    const root = await footprintRoot({ 1: 'work', 2: 'tamper' });
    const { result } = await runLoop(worker.client, worker.taskQueue, spec(root, ['work/**']));
    expect(result.history.map((h) => [h.session, h.class, h.best])).toEqual([
      [1, 'promote', 1.16],
      [2, 'stop', 1.16],
    ]);
    expect((await flagsInOrder(root, 2)).slice(0, 4)).toEqual([
      'TOY_EXEC-SESSION002-EXECUTOR-RUNNING.flag',
      'TOY_EXEC-SESSION002-EXECUTOR-BLOCKED.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-VIOLATION.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-REPAIRED.flag',
    ]);
    expect(
      await read(root, 'loop_station/flags/session_002/LOOP_STATION-SESSION002-SUPERVISOR-VIOLATION.flag'),
    ).toMatch(
      /^code: ENGINE_FILE_CHANGED\nsubject: loop_station\/leaderboard\.csv loop_station\/sessions\/session_001\/decision\.md$/m,
    );
    expect(await read(root, 'loop_station/leaderboard.csv')).not.toContain('099');
    expect(await read(root, 'loop_station/sessions/session_001/decision.md')).toMatch(/^class: promote$/m);
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test("a loop that ends on a worse candidate puts the best's files back and says so in FINAL_SUMMARY.md and status", async () => {
    const root = await footprintRoot({ 1: 'work', 2: 'lower' });
    const { workflowId, result } = await runLoop(
      worker.client,
      worker.taskQueue,
      spec(root, ['configs/**', 'work/**']),
    );
    expect(result.history.map((h) => [h.session, h.class, h.best])).toEqual([
      [1, 'promote', 1.16],
      [2, 'stop', 1.16],
    ]);
    expect(await read(root, 'configs/base.yaml')).toBe('lr: 0.00016\n');
    const summary = await read(root, 'loop_station/FINAL_SUMMARY.md');
    expect(summary.slice(summary.indexOf('## Working Tree'))).toBe(
      [
        '## Working Tree',
        '',
        "- restored the best's files (session 001) from loop_station/code_variants/session_001/candidate: configs/base.yaml",
        '- restore manifest: loop_station/sessions/session_002/restore_manifest.json',
        "- session 002's candidate (the last) is kept in loop_station/code_variants/session_002/candidate.",
        '',
      ].join('\n'),
    );
    const status = await statusAfterEnd(worker.client.workflow, workflowId);
    expect(status.warnings).toContain(
      'working tree restored to the best (session 001) from loop_station/code_variants/session_001/candidate: ' +
        "configs/base.yaml; session 002's candidate is kept in loop_station/code_variants/session_002/candidate",
    );
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test("a training run's scratch folders are no finding; a file it leaves beside them still is", async () => {
    const root = await footprintRoot({ 1: 'train', 2: 'work' });
    const { result } = await runLoop(worker.client, worker.taskQueue, spec(root, ['work/**'], ['runs/', '**/wandb']));
    expect(result.history.map((h) => [h.session, h.class, h.best])).toEqual([
      [1, 'promote', 1.16],
      [2, 'stop', 2.16],
    ]);
    expect(
      await read(root, 'loop_station/flags/session_001/LOOP_STATION-SESSION001-SUPERVISOR-VIOLATION.flag'),
    ).toMatch(/^code: CHANGED_OUTSIDE_WORKSPACE\nsubject: scratch_notes\.txt$/m);
    expect(JSON.parse(await read(root, 'loop_station/sessions/session_001/engine_guard/after.json'))).toMatchObject({
      outside: ['scratch_notes.txt'],
      workspaceChanged: true,
    });
    // An agent that reads only the frame, as the original skill's do, knows the scratch folders too.
    expect(await read(root, 'loop_station/FRAME.md')).toMatch(/^- scratch: \["runs","\*\*\/wandb"\] \(run outputs/m);
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});
