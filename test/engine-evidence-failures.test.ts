import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readReportFiles } from '../cli/commands/report.js';
import { renderStatusText } from '../cli/commands/status.js';
import { progressLine } from '../cli/commands/watch.js';
import { type LoopList, LoopListSchema } from '../protocol/schemas/cli-output.js';
import { buildReportData } from '../protocol/report/data.js';
import { renderReportHtml } from '../protocol/report/html.js';
import { renderReportMarkdown } from '../protocol/report/md.js';
import type { LoopSpecInput } from '../protocol/schemas/loop-spec.js';
import type { LoopResult, LoopStatus } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { resumeUpdate, statusQuery } from '../workflows/messages.js';
import { runCli } from './helpers/cli.js';
import { toyRoot, toySpec } from './helpers/loops.js';
import { statusAfterEnd, until } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * Evidence that never works (the probe's `{"val": {"acc": …}}` read as `acc`, a NaN) must not let a
 * loop spend its budget silently: a failed baseline pauses the loop (or stops it), sessions whose
 * evidence fails the same way trip the circuit breaker, and status, FINAL_SUMMARY.md and the
 * report name the error.
 */

const worker = useTestWorker();

/** A toy loop whose evidence command prints what `printed.json` holds (rewritten to fix it). */
async function loop(printed: string, over: Partial<LoopSpecInput> = {}) {
  const root = await toyRoot({ 'printed.json': printed, 'eval.sh': 'echo "epoch 3 done"\ncat printed.json\n' });
  const config = toySpec(root, worker.taskQueue, {
    reviewers: [],
    evidence: { command: 'sh eval.sh', metric: 'score', protect: [] },
    onFailure: { consecutive: 2, action: 'pause', retries: 0, backoff: '0s' },
    ...over,
  });
  const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-evidence-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    taskQueue: worker.taskQueue,
    args: [{ config }],
  });
  const waitFor = (what: string, ok: (s: LoopStatus) => boolean) =>
    until(async () => {
      const s = await handle.query(statusQuery);
      return ok(s) ? s : undefined;
    }, what);
  return { root, handle, waitFor, result: async () => (await handle.result()) as LoopResult };
}

const read = (root: string, path: string) => readFile(join(root, 'loop_station', path), 'utf8');

/** `list` of one loop, text and JSON, once its row satisfies `ok` (visibility follows the workflow a little later). */
const listed = (workflowId: string, ok: (row: LoopList[number]) => boolean) =>
  until(async () => {
    const query = ['list', '--query', `WorkflowId="${workflowId}"`];
    const [row] = LoopListSchema.parse(JSON.parse((await runCli([...query, '--json'])).stdout));
    return row && ok(row) ? { row, text: (await runCli(query)).stdout } : undefined;
  }, `${workflowId} in list`);

describe('a baseline whose evidence fails', () => {
  test('pauses the loop before session 1, names the error, and resume measures the baseline again', async () => {
    const l = await loop('{"val": {"score": 0.5}}');
    const paused = await l.waitFor('the baseline pause', (s) => s.phase === 'paused');
    const error = 'metric score is missing from the evidence output (got: keys val.score)';
    expect([paused.session, paused.history, paused.pending?.message]).toEqual([
      0,
      [],
      `paused: the baseline's evidence failed: ${error}; fix it, then loop-station resume measures the baseline again`,
    ]);
    expect(renderStatusText(paused, Date.now())).toContain(
      `\nwarning: evidence failed at session 000 (the baseline): ${error}\n`,
    );
    // list (which reads only visibility) says so too, and not once a run measures.
    const failing = await listed(l.handle.workflowId, (r) => r.evidenceError !== null);
    expect(failing.row.evidenceError).toEqual({ session: 0, error });
    // The fix: the metric where the spec looks for it. The leaderboard's 000 row is the measured one.
    await writeFile(join(l.root, 'printed.json'), '{"score": 0.5}\n');
    await l.handle.executeUpdate(resumeUpdate, { args: [{}] });
    const result = await l.result();
    expect([result.stopReason, result.baseline, result.best?.session]).toEqual(['budget_sessions', 0.5, 0]);
    expect((await read(l.root, 'leaderboard.csv')).match(/^000,/gm)).toHaveLength(1);
    // The evidence warning is gone once a run succeeds (the working tree's own line may stay).
    expect(
      (await statusAfterEnd(l.handle.client, l.handle.workflowId)).warnings.filter((w) => /evidence/.test(w)),
    ).toEqual([]);
    expect(result.interventions.map((i) => i.kind).slice(0, 2)).toEqual(['breaker', 'resume']);
    const measured = await listed(l.handle.workflowId, (r) => r.status === 'COMPLETED');
    expect([measured.row.evidenceError, measured.text.split('\n')[0]!.includes('NOTE')]).toEqual([null, false]);
  });

  test('with onFailure.action stop, ends the loop as failed before any session; the summary and the report say why', async () => {
    const l = await loop('{"score": NaN}', {
      onFailure: { consecutive: 2, action: 'stop', retries: 0, backoff: '0s' },
    });
    const result = await l.result();
    expect([result.stopReason, result.sessions, result.best]).toEqual(['failed', 0, null]);
    const final = await read(l.root, 'FINAL_SUMMARY.md');
    expect(final).toMatch(/^evidence_error: session 000: metric score is NaN$/m);
    expect(final).toContain(
      '- none: no value passed protection; the evidence failed at session 000: metric score is NaN',
    );
    const data = buildReportData(await readReportFiles(l.root));
    expect(data.evidenceError).toEqual({ session: 0, error: 'metric score is NaN' });
    expect(renderReportMarkdown(data, { hrefBase: '' })).toContain(
      '| evidence | failed at session 000: metric score is NaN |',
    );
    expect(renderReportHtml(data, { hrefBase: '' })).toContain(
      '<p class="evidence-error bad">evidence failed at session 000: metric score is NaN</p>',
    );
  });
});

describe('sessions whose evidence fails the same way', () => {
  test('trip the circuit breaker as failed executor runs do', async () => {
    // The baseline measures; every session's evidence then prints NaN.
    const l = await loop('{"score": 0}', {
      evidence: { command: 'sh eval.sh', metric: 'score', protect: [] },
      onFailure: { consecutive: 2, action: 'stop', retries: 0, backoff: '0s' },
      budget: { sessions: 5, perRun: '30s' },
    });
    await writeFile(
      join(l.root, 'eval.sh'),
      'if [ -d loop_station/sessions/session_001 ]; then echo \'{"score": NaN}\'; else cat printed.json; fi\n',
    );
    const result = await l.result();
    expect([result.stopReason, result.sessions]).toEqual(['failed', 2]);
    expect(await read(l.root, 'summaries/SESSION_LEDGER.md')).toContain(
      'circuit breaker: 2 sessions in a row (to 002) ended with its evidence failing (metric score is NaN): the loop stops',
    );
    expect(await read(l.root, 'FINAL_SUMMARY.md')).toMatch(/^evidence_error: session 002: metric score is NaN$/m);
    // The decision and the next executor's brief say the evaluator failed, and why, not only that a rule matched.
    expect(await read(l.root, 'sessions/session_001/decision.md')).toContain(
      'rule 4: the evidence gave no value (evidence: metric score is NaN)',
    );
    expect(await read(l.root, 'summaries/EXECUTOR_BRIEF.md')).toContain(
      '- session 002: its evidence command failed (metric score is NaN), so nothing was measured: read why in ' +
        'loop_station/sessions/session_002/runs/evidence.stderr.log',
    );
  });

  test("watch's line and list's NOTE column name the error, as status does", async () => {
    const l = await loop('{"score": 0}', {
      onFailure: { consecutive: 2, action: 'stop', retries: 0, backoff: '0s' },
      budget: { sessions: 5, perRun: '30s' },
    });
    await writeFile(
      join(l.root, 'eval.sh'),
      'if [ -d loop_station/sessions/session_001 ]; then echo \'{"score": NaN}\'; else cat printed.json; fi\n',
    );
    await l.result();
    const status = await statusAfterEnd(l.handle.client, l.handle.workflowId);
    expect(status.evidenceError).toEqual({ session: 2, error: 'metric score is NaN' });
    expect(progressLine(status, Date.now())).toMatch(/ · evidence failed at 002: metric score is NaN$/);
    const { row, text } = await listed(l.handle.workflowId, (r) => r.status === 'COMPLETED');
    expect(row.evidenceError).toEqual({ session: 2, error: 'metric score is NaN' });
    const [header, line] = text.trimEnd().split('\n');
    expect([header!.split(/\s+/).at(-1), line!.endsWith('  evidence failed at 002: metric score is NaN')]).toEqual([
      'NOTE',
      true,
    ]);
  });
});
