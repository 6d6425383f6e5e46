import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, test } from 'vitest';
import { isAlive } from '../activities/agents/process-tree.js';
import { validateCommand } from '../cli/commands/validate.js';
import { LoopListSchema } from '../protocol/schemas/cli-output.js';
import { type LoopResult, type LoopStatus, LoopStatusSchema } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { LoopName } from '../workflows/search-attributes.js';
import { runCli, runTemporal } from './helpers/cli.js';
import { node, toyRoot, toySpec } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { until } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

/** Human control through our CLI and through the real `temporal` binary, on the shared dev server. */

const worker = useTestWorker();

let n = 0;
async function startLoop(overrides: Parameters<typeof toySpec>[2], files: Record<string, string> = {}) {
  const root = await toyRoot(files);
  const config = toySpec(root, worker.taskQueue, overrides);
  const name = `ctl-${process.pid}-${Date.now()}-${n++}`;
  const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-${name}`,
    taskQueue: worker.taskQueue,
    args: [{ config: { ...config, name } }],
    typedSearchAttributes: [{ key: LoopName, value: name }],
  });
  return { root, handle, name };
}

const statusOf = async (name: string): Promise<LoopStatus> => {
  const res = await runCli(['status', name, '--json']);
  expect(res.code).toBe(0);
  return LoopStatusSchema.parse(JSON.parse(res.stdout));
};

describe('human control', () => {
  test('stop --now cancels a running agent and its whole process group; the loop ends cleanly', async () => {
    const { root, handle, name } = await startLoop({
      budget: { sessions: 3, perRun: '5m' },
      reviewers: [],
      executor: { name: 'hang', agent: 'shell', command: node('spawn-tree.mjs', 'tree.json') },
    });
    const tree = await until(
      async () => JSON.parse(await readFile(join(root, 'tree.json'), 'utf8')) as Record<string, number>,
      'the agent tree',
    );
    const res = await runCli(['stop', name, '--now', '--reason', 'enough']);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe(`loop-${name}: stopping now: the running agent is cancelled\n`);
    await until(async () => Object.values(tree).every((pid) => !isAlive(pid)), 'the process group to be gone', 10_000);
    const result = (await handle.result()) as LoopResult;
    expect(result.stopReason).toBe('user_stop');
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: null, best: 0 }]);
    expect(
      await readFile(join(root, 'loop_station/flags/session_001/HANG-SESSION001-EXECUTOR-BLOCKED.flag'), 'utf8'),
    ).toMatch(/^reason: cancelled: user_stop$/m);
    expect(await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8')).toMatch(
      /^stop_reason: user_stop$/m,
    );
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('redirect from the temporal CLI reaches the next executor prompt and the brief; bad signals are recorded as rejected', async () => {
    const { root, handle, name } = await startLoop(
      { budget: { sessions: 2 }, reviewers: [] },
      { 'plan.json': JSON.stringify({ sleep: { 1: 1500 } }) },
    );
    await until(
      async () =>
        (await readFile(join(root, 'loop_station/flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag')))
          .length > 0,
      'session 1',
    );
    const redirected = await runTemporal([
      'workflow',
      'update',
      'execute',
      '-w',
      `loop-${name}`,
      '--name',
      'redirect',
      '--input',
      '{"note":"try the x axis in steps of 10"}',
    ]);
    expect(redirected.code).toBe(0);
    const bad = await runTemporal([
      'workflow',
      'signal',
      '-w',
      `loop-${name}`,
      '--name',
      'redirect',
      '--input',
      '{"note":""}',
    ]);
    expect(bad.code).toBe(0);
    // A misspelt name: the server takes any signal; the loop records it rather than dropping it.
    const misspelt = await runTemporal(['workflow', 'signal', '-w', `loop-${name}`, '--name', 'puase']);
    expect(misspelt.code).toBe(0);
    await handle.result();
    expect(
      await readFile(join(root, 'loop_station/sessions/session_002/runs/TOY_EXEC-EXECUTOR.prompt.md'), 'utf8'),
    ).toMatch(/^- try the x axis in steps of 10$/m);
    const status = await statusOf(name);
    expect(status.interventions.map((i) => [i.kind, i.via])).toEqual([
      ['redirect', 'update'],
      ['rejected', 'signal'],
      ['rejected', 'signal'],
      ['budget_warning', 'engine'],
    ]);
    expect(status.interventions[1]!.note).toMatch(/^redirect: /);
    expect(status.interventions[2]!.note).toBe('puase: no such signal; the loop takes stop, redirect, pause, resume');
    expect(await readFile(join(root, 'loop_station/summaries/SESSION_LEDGER.md'), 'utf8')).toMatch(
      /try the x axis in steps of 10/,
    );
  });

  test('an askBefore gate waits for approve; rejected updates exit 1 naming the problem', async () => {
    const { handle, name } = await startLoop({ budget: { sessions: 2 }, reviewers: [], askBefore: ['promote'] });
    const waiting = await until(async () => {
      const s = await statusOf(name);
      return s.pending?.kind === 'approval' ? s : undefined;
    }, 'the approval gate');
    expect(waiting.pending).toEqual({
      kind: 'approval',
      session: 1,
      decision: 'promote',
      until: null,
      message:
        'session 001 decided promote and waits for a human answer: approve applies promote and goes on, ' +
        'deny applies keep and goes on',
      command: `loop-station approve loop-${name} --session 1`,
      onApprove: 'promote',
      onDeny: 'keep',
    });
    // The text status names both answers, each a command to run as it stands.
    const text = await runCli(['status', name]);
    expect(text.stdout).toContain(
      'pending: session 001 decided promote and waits for a human answer: approve applies promote and goes on, ' +
        `deny applies keep and goes on\n` +
        `  answer: loop-station approve loop-${name} --session 1 --address ${inject('temporalAddress')}\n` +
        `  or: loop-station deny loop-${name} --session 1 --address ${inject('temporalAddress')}\n`,
    );
    const wrong = await runCli(['approve', name, '--session', '2']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `loop-station: loop-${name} rejected approve: session 2 does not wait for approval; session 1 does\n`,
    );
    const viaTemporal = await runTemporal([
      'workflow',
      'update',
      'execute',
      '-w',
      `loop-${name}`,
      '--name',
      'extendBudget',
      '--input',
      '{"sessions":1}',
    ]);
    expect(viaTemporal.code).not.toBe(0);
    expect(viaTemporal.stderr).toMatch(/extend only raises a budget: sessions 1 is not more than the current 2/);
    // Paused as well: the card says an answer alone will not start session 2.
    expect((await runCli(['pause', name])).code).toBe(0);
    expect((await runCli(['status', name])).stdout).toContain(
      `paused as well: after the answer no new session starts until loop-station resume loop-${name} ` +
        `--address ${inject('temporalAddress')}\n`,
    );
    const ok = await runCli(['approve', name, '--session', '1', '--note', 'looks right']);
    expect(ok.code).toBe(0);
    expect((await runCli(['resume', name])).code).toBe(0);
    const result = (await handle.result()) as LoopResult;
    expect(result.history.map((h) => h.class)).toEqual(['promote', 'stop']);
    const answers = result.interventions.filter((i) => i.kind !== 'pause' && i.kind !== 'resume');
    expect(answers.map((i) => [i.kind, i.note])).toEqual([
      ['approve', 'session 1: looks right'],
      ['budget_warning', 'sessions at 100% of the budget'],
    ]);
  });

  test('in the last session a redirect says no executor will read it; a pause leaves nothing pending once the loop ends', async () => {
    // The executor stays until the test lets it go, so both messages land in the session.
    const gate = join(await testdir(), 'go');
    const { handle, name } = await startLoop(
      { budget: { sessions: 1 }, reviewers: [] },
      { 'plan.json': JSON.stringify({ lingerUntil: { 1: gate } }) },
    );
    await until(async () => ((await statusOf(name)).phase === 'executing' ? true : undefined), 'the last session');
    const redirect = await runCli(['redirect', name, 'try the y axis']);
    expect([redirect.code, redirect.stderr]).toEqual([
      0,
      `loop-${name}: no session is left in the session budget (1), so no executor will read it; it is in the ` +
        `ledger and the final summary. To act on it: loop-station extend loop-${name} --sessions 2: try the y axis\n`,
    ]);
    expect((await runCli(['pause', name])).code).toBe(0);
    // A note can hold terminal escapes (an agent can send one too): status shows it, never plays it.
    expect((await runCli(['redirect', name, 'clear \x1b[2J\x1b]0;title\x07the screen'])).code).toBe(0);
    await writeFile(gate, '');
    const result = (await handle.result()) as LoopResult;
    expect(result.stopReason).toBe('budget_sessions');
    const ended = await statusOf(name);
    expect([ended.phase, ended.pending]).toEqual(['finished', null]);
    const text = (await runCli(['status', name])).stdout;
    expect(text).not.toContain('pending:');
    expect(text).toContain('clear the screen');
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });

  test('pause holds the next session until resume; list and search attributes find the loop', async () => {
    const { handle, name } = await startLoop(
      { budget: { sessions: 2 }, reviewers: [] },
      { 'plan.json': JSON.stringify({ sleep: { 1: 1000 } }) },
    );
    const paused = await runCli(['pause', name]);
    expect(paused.code).toBe(0);
    const held = await until(async () => {
      const s = await statusOf(name);
      return s.phase === 'paused' ? s : undefined;
    }, 'the paused phase');
    expect(held.session).toBe(1);
    expect(held.pending?.command).toBe(`loop-station resume loop-${name}`);
    const found = await runTemporal([
      'workflow',
      'list',
      '--query',
      `LoopName="${name}" AND LoopPhase="paused"`,
      '--output',
      'json',
    ]);
    expect(
      (JSON.parse(found.stdout) as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId),
    ).toEqual([`loop-${name}`]);
    // An extend shows in list at once (`memo-follows-extend`): it reads the memo, not the status query.
    expect((await runCli(['extend', name, '--sessions', '3'])).code).toBe(0);
    const listed = await runCli(['list', '--query', `LoopName="${name}"`, '--json']);
    expect(LoopListSchema.parse(JSON.parse(listed.stdout)).map((r) => [r.workflowId, r.phase, r.sessions])).toEqual([
      [`loop-${name}`, 'paused', 3],
    ]);
    expect((await runCli(['resume', name])).code).toBe(0);
    const result = (await handle.result()) as LoopResult;
    expect(result.sessions).toBe(3);
  });

  test('a stop while paused ends the loop without waiting for a session; a query the server cannot read is a usage error', async () => {
    const { handle, name } = await startLoop(
      { budget: { sessions: 3 }, reviewers: [] },
      { 'plan.json': JSON.stringify({ sleep: { 1: 1000 } }) },
    );
    expect((await runCli(['pause', name])).code).toBe(0);
    await until(async () => ((await statusOf(name)).phase === 'paused' ? true : undefined), 'the paused phase');
    const stop = await runCli(['stop', name]);
    expect([stop.code, stop.stderr]).toEqual([
      0,
      `loop-${name}: stopping: no session is running, so the loop ends before another starts\n`,
    ]);
    const result = (await handle.result()) as LoopResult;
    expect([result.stopReason, result.sessions]).toEqual(['user_stop', 1]);

    const bad = await runCli(['list', '--query', 'LoopPhase = = "review"']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^loop-station: --query LoopPhase = = "review": the server cannot read it \(.+\)\n/);
    expect(bad.stderr).toContain(`  fix: write a Temporal visibility query on the loops' search attributes, e.g.`);
  });

  test('an unreachable server fails fast with exit code 3 and says what to do', async () => {
    const started = Date.now();
    const res = await runCli(['status', 'x', '--address', '127.0.0.1:1'], { connect: false });
    expect(res.code).toBe(3);
    expect(res.stderr.split('\n')[0]).toMatch(
      /^loop-station: cannot reach Temporal at 127\.0\.0\.1:1 \(namespace default\): /,
    );
    expect(res.stderr).toContain('start a local server and worker with `npx loop-station dev`');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
