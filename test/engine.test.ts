import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import { parseLeaderboard } from '../protocol/schemas/leaderboard.js';
import { flagsInOrder, runLoop, selfChecks, toyRoot, toySpec } from './helpers/loops.js';
import { useTestWorker } from './helpers/worker.js';
import { SESSION_MARKER_EPOCH } from '../workflows/patches.js';

const worker = useTestWorker();

describe('a reviewed loop with scripted agents', () => {
  test('runs 5 sessions in lifecycle order and leaves a folder validate accepts', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ 2: 5, 3: 4, 4: 5 }) });
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 5, perRun: '30s' } });
    const { result, workflowId } = await runLoop(worker.client, worker.taskQueue, config);

    expect(result.stopReason).toBe('budget_sessions');
    expect(result.sessions).toBe(5);
    // Every step the engine took passed the protocol's state machine, the one validate runs.
    expect(await selfChecks(worker.client, workflowId, 5)).toEqual([[], [], [], [], []]);
    // x: 1, 5, 4, 5, 6 → promote, promote, return_to_best, keep, stop (budget; 6 still becomes the best)
    expect(result.history.map((h) => [h.session, h.class, h.value])).toEqual([
      [1, 'promote', 1],
      [2, 'promote', 5],
      [3, 'return_to_best', 4],
      [4, 'keep', 5],
      [5, 'stop', 6],
    ]);
    expect(result.best).toEqual({ session: 5, value: 6 });
    expect(result.baseline).toBe(0);

    expect(await flagsInOrder(root, 1)).toEqual([
      'TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag',
      'TOY_EXEC-SESSION001-EXECUTOR-DONE.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-RUNNING.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag',
      'TOY_REV-SESSION001-REVIEWER-RUNNING.flag',
      'TOY_REV-SESSION001-REVIEWER-DONE.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-DONE.flag',
    ]);
    const leaderboard = parseLeaderboard(await readFile(join(root, 'loop_station/leaderboard.csv'), 'utf8'));
    expect(leaderboard.rows.map((r) => [r.session, r.class, r.value, r.best_value])).toEqual([
      [0, 'baseline', 0, 0],
      [1, 'promote', 1, 1],
      [2, 'promote', 5, 5],
      [3, 'return_to_best', 4, 5],
      [4, 'keep', 5, 5],
      [5, 'stop', 6, 6],
    ]);
    // return_to_best restored session 2's x before session 4 opened: session 4 started from 5, not 4.
    expect(await readFile(join(root, 'loop_station/sessions/session_004/restore_manifest.json'), 'utf8')).toContain(
      '"path": "work/x.txt"',
    );

    // Sessions start at the current marker epoch (workflows/patches.ts): the changes are taken
    // without patch markers or TemporalChangeVersion upserts; only the local activities' markers remain.
    for (const session of ['001', '005']) {
      const events =
        (await worker.client.workflow.getHandle(`${workflowId}/session-${session}`).fetchHistory()).events ?? [];
      const input = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!;
      expect(JSON.parse(Buffer.from(input).toString('utf8'))).toMatchObject({ markerEpoch: SESSION_MARKER_EPOCH });
      const markers = events.flatMap((e) =>
        e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes.markerName] : [],
      );
      expect(markers.length).toBeGreaterThan(0);
      expect(markers.filter((name) => name !== 'core_local_activity')).toEqual([]);
      expect(events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toEqual([]);
    }

    // Each session is shown as executing by the task that starts its workflow (`phase-at-child-start`),
    // not by the task its start wakes, which is left with nothing to do (no visibility write).
    const loopEvents = (await worker.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const attribute = (i: number, key: string): unknown => {
      const field =
        loopEvents[i]!.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[key];
      return field?.data ? JSON.parse(Buffer.from(field.data).toString('utf8')) : undefined;
    };
    const starts = loopEvents.flatMap((e, i) => (e.startChildWorkflowExecutionInitiatedEventAttributes ? [i] : []));
    expect(starts).toHaveLength(5);
    for (const at of starts) {
      const session = Number(
        /session-(\d+)$/.exec(loopEvents[at]!.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId!)![1],
      );
      // The commands of the task that starts it, back to that task's completion.
      let done = at;
      while (!loopEvents[done]!.workflowTaskCompletedEventAttributes) done--;
      const phases = Array.from({ length: at - done }, (_, k) => done + 1 + k).flatMap((i) =>
        attribute(i, 'LoopPhase') === undefined ? [] : [[attribute(i, 'LoopPhase'), attribute(i, 'LoopSession')]],
      );
      expect(phases.at(-1)).toEqual(['executing', session]);
      // Between sessions the loop upserts once (`one-upsert-per-boundary`): the closed session's
      // best and phase go out with the next one's start, not as upserts of their own.
      if (session > 1) {
        // (A patch's TemporalChangeVersion upsert may come first: the SDK's, not the loop's.)
        const upserts = Array.from({ length: at - done }, (_, k) => done + 1 + k).filter((i) =>
          ['LoopPhase', 'LoopSession', 'LoopBest'].some((key) => attribute(i, key) !== undefined),
        );
        expect(upserts).toHaveLength(1);
        expect(attribute(upserts[0]!, 'LoopBest')).toBe(session === 2 ? 1 : 5);
      }
    }
    // …and only there: once per session.
    expect(loopEvents.filter((_, i) => attribute(i, 'LoopPhase') === 'executing')).toHaveLength(5);
    // The last session's best and the end go out together, last.
    const lastUpsert = loopEvents.findLastIndex((e) => e.upsertWorkflowSearchAttributesEventAttributes);
    expect([attribute(lastUpsert, 'LoopPhase'), attribute(lastUpsert, 'LoopBest')]).toEqual(['finished', 6]);

    const validated = await validateCommand({ dir: root });
    expect(validated.findings).toEqual([]);
    expect(validated.exitCode).toBe(0);

    const tree = await readdir(join(root, 'loop_station'));
    expect(tree.sort()).toEqual(
      [
        'FINAL_SUMMARY.md',
        'FRAME.md',
        'agent_roster.md',
        'code_variants',
        'contract.json',
        'flags',
        'leaderboard.csv',
        'reviews',
        'sessions',
        'summaries',
      ].sort(),
    );
  });

  test('a report that lacks required parts is named in the self-review, and the next executor is asked for them', async () => {
    const propose = '- action: switch to tuning the window size\n- rationale: the x gains look like seed noise';
    const root = await toyRoot({ 'plan.json': JSON.stringify({ terse: [1], propose: { 1: propose } }) });
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 2, perRun: '30s' } });
    const { result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.sessions).toBe(2);
    const session = (n: number, file: string) =>
      readFile(join(root, `loop_station/sessions/session_00${n}`, file), 'utf8');
    const lacking = [
      'executor_report.md: header finished_at',
      'executor_report.md: section ## Changed Values',
      'executor_report.md: section ## Evidence',
    ];
    const analysis = await session(1, 'supervisor_analysis.md');
    for (const part of lacking) expect(analysis).toContain(`- ${part}: missing\n`);
    expect(await session(1, 'review_flags.md')).toMatch(/self-review done: the executor's files lack 7 required parts/);
    // The next prompt names them; a complete report (session 2) leaves the self-review as it was.
    const prompt = await session(2, 'runs/TOY_EXEC-EXECUTOR.prompt.md');
    expect(prompt).toContain(
      '- its report and proposal lacked executor_report.md: header started_at; executor_report.md: header finished_at; ' +
        'executor_report.md: section ## Changed Values;',
    );
    // What session 1 measured and what the workspace holds now reach it too (from the session's record).
    expect(prompt).toMatch(/^- it measured \w+ = [\d.]+$/m);
    expect(prompt).toMatch(/^- the workspace (holds its change|was restored to|still holds session 001's change)/m);
    // What the executor proposed for the next session reaches the next one, in its prompt and its brief.
    expect(prompt).toContain(
      '- loop_station/sessions/session_001/executor_proposal.md: its executor proposed next: - ' +
        'action: switch to tuning the window size',
    );
    expect(await readFile(join(root, 'loop_station/summaries/EXECUTOR_BRIEF.md'), 'utf8')).toContain(
      'the last executor proposed',
    );
    expect(await session(2, 'supervisor_analysis.md')).not.toMatch(/missing/);
    expect(await session(2, 'review_flags.md')).toContain('self-review passed; review open');
    // validate warns about the same file, and only that one.
    const validated = await validateCommand({ dir: root });
    expect(validated.findings.map((f) => [f.code, f.file])).toEqual([
      ['ARTIFACT_SECTIONS_MISSING', 'loop_station/sessions/session_001/executor_report.md'],
    ]);
  });
});
