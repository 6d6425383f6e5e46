import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { flagsInOrder, node, selfChecks, toyRoot, toySpec } from './helpers/loops.js';
import { waitForFile } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';
import { isAlive } from '../activities/agents/process-tree.js';

const worker = useTestWorker();

const reviewText = (agent: string, verdict: string) =>
  [
    `agent: ${agent}`,
    'model: human',
    'instruction_profile: test',
    'role: REVIEWER',
    'session: 001',
    'status: DONE',
    `verdict: ${verdict}`,
    'recommendation: promote',
    'blocked_reason: none',
    '',
    '## Evidence Checked',
    'metrics.json',
    '## Verdict',
    verdict,
    '',
  ].join('\n');

let n = 0;
const start = (config: ReturnType<typeof toySpec>) =>
  worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-review-${process.pid}-${Date.now()}-${n++}`,
    taskQueue: worker.taskQueue,
    args: [{ config }],
  });

describe('external reviewers', () => {
  test('a flag written by hand closes the review gate; wrong flags are recorded as violations, not accepted', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [{ name: 'outside', agent: 'external', required: true }],
    });
    const handle = await start(config);
    const flags = join(root, 'loop_station/flags/session_001');
    await waitForFile(join(flags, 'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag'));

    // Wrong session number in the name, and a role the roster does not give this agent.
    await writeFile(join(flags, 'OUTSIDE-SESSION002-REVIEWER-RUNNING.flag'), '');
    await writeFile(join(flags, 'OUTSIDE-SESSION001-EXECUTOR-DONE.flag'), '');
    await writeFile(
      join(flags, 'OUTSIDE-SESSION001-REVIEWER-RUNNING.flag'),
      'producer: OUTSIDE\nrole: REVIEWER\nsession: 001\nstatus: RUNNING\n',
    );
    await mkdir(join(root, 'loop_station/reviews/session_001'), { recursive: true });
    await writeFile(
      join(root, 'loop_station/reviews/session_001/OUTSIDE-SESSION001-REVIEWER-DONE.md'),
      reviewText('OUTSIDE', 'supported'),
    );
    await writeFile(
      join(flags, 'OUTSIDE-SESSION001-REVIEWER-DONE.flag'),
      'producer: OUTSIDE\nrole: REVIEWER\nsession: 001\nstatus: DONE\nartifact: loop_station/reviews/session_001/OUTSIDE-SESSION001-REVIEWER-DONE.md\n',
    );

    const result = (await handle.result()) as LoopResult;
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    const names = await readdir(flags);
    expect(names.filter((f) => f.includes('VIOLATION') || f.includes('REPAIRED')).sort()).toEqual([
      'LOOP_STATION-SESSION001-SUPERVISOR-REPAIRED-2.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-REPAIRED.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-VIOLATION-2.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-VIOLATION.flag',
    ]);
    const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
    expect(reviewFlags).toMatch(/VIOLATION:FLAG_WRONG_SESSION/);
    expect(reviewFlags).toMatch(/VIOLATION:FLAG_UNKNOWN_PRODUCER/);
    expect(reviewFlags).toMatch(/REVIEW_CONSUMED:OUTSIDE/);
    const decision = await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');
    expect(decision).toMatch(/^reviews: OUTSIDE:supported$/m);
    // The engine closed the session only after the reviewer's DONE.
    const order = await flagsInOrder(root, 1);
    expect(order.indexOf('OUTSIDE-SESSION001-REVIEWER-DONE.flag')).toBeLessThan(
      order.indexOf('LOOP_STATION-SESSION001-SUPERVISOR-DONE.flag'),
    );
    expect(await selfChecks(worker.client, handle.workflowId, 1)).toEqual([[]]);
    // The two wrong flags stay on disk, reported as what the engine disregarded, not as errors.
    const findings = (await validateCommand({ dir: root })).findings;
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(
      findings
        .filter((f) => f.message.endsWith('(the engine disregarded it: VIOLATION, then REPAIRED)'))
        .map((f) => [f.code, f.file]),
    ).toEqual([
      ['FLAG_WRONG_SESSION', 'loop_station/flags/session_001/OUTSIDE-SESSION002-REVIEWER-RUNNING.flag'],
      ['FLAG_UNKNOWN_PRODUCER', 'loop_station/flags/session_001/OUTSIDE-SESSION001-EXECUTOR-DONE.flag'],
    ]);
  });

  test('a reviewer that never starts times out: its TIMEOUT flag and REVIEW_START_TIMEOUT record, then the session goes on', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [{ name: 'sleepy', agent: 'external', required: true }],
      reviewWait: { startTimeout: '1s', doneTimeout: '10s', heartbeatTimeout: '10s', skipOnTimeout: true },
    });
    const handle = await start(config);
    const result = (await handle.result()) as LoopResult;
    // The required review was skipped by skipOnTimeout: the decision is unreviewed, the candidate not the best.
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 0 }]);
    expect(await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8')).toMatch(
      /^reviews: SLEEPY:unreviewed$/m,
    );
    expect(await selfChecks(worker.client, handle.workflowId, 1)).toEqual([[]]);
    const order = await flagsInOrder(root, 1);
    expect(order).toEqual([
      'TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag',
      'TOY_EXEC-SESSION001-EXECUTOR-DONE.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-RUNNING.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag',
      'SLEEPY-SESSION001-REVIEWER-TIMEOUT.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-DONE.flag',
    ]);
    const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
    expect(reviewFlags).toMatch(/^- REVIEW_START_TIMEOUT:SLEEPY$/m);
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('a managed reviewer that hangs past the done timeout is killed with its process tree', async () => {
    const root = await toyRoot();
    const pidFile = join(root, 'tree.json');
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [{ name: 'hung', agent: 'shell', command: `${node('spawn-tree.mjs', pidFile)}`, required: true }],
      reviewWait: { startTimeout: '5s', doneTimeout: '2s', heartbeatTimeout: '10s', skipOnTimeout: true },
    });
    const result = (await (await start(config)).result()) as LoopResult;
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 0 }]);
    const tree = JSON.parse(await readFile(pidFile, 'utf8')) as Record<string, number>;
    expect(Object.values(tree).filter(isAlive)).toEqual([]);
    const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
    expect(reviewFlags).toMatch(/^- REVIEW_DONE_TIMEOUT:HUNG$/m);
    expect(await readdir(join(root, 'loop_station/flags/session_001'))).toContain(
      'HUNG-SESSION001-REVIEWER-TIMEOUT.flag',
    );
  });

  test("an external reviewer that writes the engine's TIMEOUT flag itself is disregarded, and the loop still ends normally", async () => {
    const root = await toyRoot({ 'judge-plan.json': JSON.stringify({ 1: 'keep' }) });
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 2 },
      supervisor: { name: 'judge', agent: 'shell', command: node('judge.mjs') },
      reviewers: [{ name: 'rogue', agent: 'external', required: true }],
      reviewWait: { startTimeout: '4s', doneTimeout: '10s', heartbeatTimeout: '10s', skipOnTimeout: true },
    });
    const handle = await start(config);
    const flags = join(root, 'loop_station/flags/session_001');
    await waitForFile(join(flags, 'JUDGE-SESSION001-SUPERVISOR-READY.flag'));
    // Exclusive, as agents should write flags: it must land before the engine's own TIMEOUT, never over it.
    await writeFile(
      join(flags, 'ROGUE-SESSION001-REVIEWER-TIMEOUT.flag'),
      'producer: ROGUE\nrole: REVIEWER\nsession: 001\nstatus: TIMEOUT\n',
      { flag: 'wx' },
    );
    const result = (await handle.result()) as LoopResult;
    expect([result.stopReason, result.sessions]).toEqual(['budget_sessions', 2]);
    // The supervisor of this loop is JUDGE: it, not LOOP_STATION, writes the violation and its repair.
    expect((await readdir(flags)).filter((f) => /VIOLATION|REPAIRED/.test(f)).sort()).toEqual([
      'JUDGE-SESSION001-SUPERVISOR-REPAIRED.flag',
      'JUDGE-SESSION001-SUPERVISOR-VIOLATION.flag',
    ]);
    const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
    expect(reviewFlags).toMatch(
      /\| REVIEW_START_TIMEOUT:ROGUE \| the wait for this reviewer ended; it says nothing about the candidate; the engine's TIMEOUT flag was not written: ROGUE had written that name itself \|/,
    );
    // The rogue flag stays on disk (flags are never deleted); validate reports it as disregarded, not as an error.
    const findings = (await validateCommand({ dir: root })).findings;
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(findings.filter((f) => f.file?.includes('ROGUE-')).map((f) => [f.code, f.severity, f.message])).toEqual([
      [
        'FLAG_UNKNOWN_PRODUCER',
        'warning',
        'ROGUE-SESSION001-REVIEWER-TIMEOUT.flag: only the engine writes TIMEOUT flags (the engine disregarded it: VIOLATION, then REPAIRED)',
      ],
    ]);
  });

  test('an optional reviewer still running when the gate closes is skipped by a record, not a late flag', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [
        { name: 'toy_rev', agent: 'shell', command: node('toy-reviewer.mjs'), required: true },
        { name: 'slow', agent: 'shell', command: 'sleep 30', required: false },
      ],
    });
    const handle = await start(config);
    const result = (await handle.result()) as LoopResult;
    expect(result.stopReason).toBe('budget_sessions');
    expect(await selfChecks(worker.client, handle.workflowId, 1)).toEqual([[]]);
    const slow = (await readdir(join(root, 'loop_station/flags/session_001'))).filter((f) => f.startsWith('SLOW-'));
    expect(slow).toEqual(['SLOW-SESSION001-REVIEWER-RUNNING.flag']);
    expect(await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8')).toMatch(
      /\| - \| REVIEW_SKIPPED:SLOW \| review gate closed without it \| - \|/,
    );
    const report = await validateCommand({ dir: root, strict: true });
    expect(report.findings.filter((f) => f.code === 'REVIEW_LATE')).toEqual([]);
  });

  test('a review whose flag was disregarded is named so in the decision, not as missing', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 2 },
      reviewers: [{ name: 'outside', agent: 'external', required: true }],
      reviewWait: { startTimeout: '60s', doneTimeout: '1s', heartbeatTimeout: '60s', skipOnTimeout: true },
    });
    const handle = await start(config);
    const dir = (n: number) => join(root, `loop_station/flags/session_00${n}`);
    const reviews = (n: number) => join(root, `loop_station/reviews/session_00${n}`);
    await waitForFile(join(dir(1), 'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag'));
    // Session 1: a DONE whose body names another session is disregarded; the RUNNING after it then
    // runs out its done timeout, and skipOnTimeout leaves the session unreviewed.
    await mkdir(reviews(1), { recursive: true });
    await writeFile(join(reviews(1), 'OUTSIDE-SESSION001-REVIEWER-DONE.md'), reviewText('OUTSIDE', 'supported'));
    await writeFile(
      join(dir(1), 'OUTSIDE-SESSION001-REVIEWER-DONE.flag'),
      'producer: OUTSIDE\nrole: REVIEWER\nsession: 002\nstatus: DONE\n',
    );
    await waitForFile(join(dir(1), 'LOOP_STATION-SESSION001-SUPERVISOR-REPAIRED.flag'));
    await writeFile(join(dir(1), 'OUTSIDE-SESSION001-REVIEWER-RUNNING.flag'), '');
    // Session 2: a DONE with its review counts (a terminal flag is also the start).
    await waitForFile(join(dir(2), 'LOOP_STATION-SESSION002-SUPERVISOR-READY.flag'));
    await mkdir(reviews(2), { recursive: true });
    await writeFile(
      join(reviews(2), 'OUTSIDE-SESSION002-REVIEWER-DONE.md'),
      reviewText('OUTSIDE', 'supported').replace('session: 001', 'session: 002'),
    );
    await writeFile(join(dir(2), 'OUTSIDE-SESSION002-REVIEWER-DONE.flag'), '');
    const result = (await handle.result()) as LoopResult;
    expect(result.history.map((h) => h.class)).toEqual(['needs_more_evidence', 'stop']);

    const why = 'OUTSIDE-SESSION001-REVIEWER-DONE.flag: body says session 002';
    const decision = await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');
    const reason = /^reason: (.*)$/m.exec(decision)?.[1];
    expect(reason).toContain(`unreviewed (OUTSIDE's flag disregarded (${why}), skipped by skipOnTimeout)`);
    expect(reason).not.toContain('missing');
    expect(decision).toContain("Disregarded: OUTSIDE's flag body says session 002; its review was not counted.");
    expect(decision).toContain(
      'Unreviewed: the review of OUTSIDE did not count, its flag disregarded (skipped by skipOnTimeout).',
    );
    expect(decision).not.toContain('OUTSIDE did not review this session');
    const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
    expect(reviewFlags).toContain('required review not counted: its flag was disregarded');
    expect(reviewFlags).not.toContain('required review missing');
    expect(await selfChecks(worker.client, handle.workflowId, 2)).toEqual([[], []]);
  });
});
