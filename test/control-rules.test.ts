import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, test } from 'vitest';
import { LoopListSchema } from '../protocol/schemas/cli-output.js';
import { type LoopResult, type LoopStatus, LoopStatusSchema } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { run, runCli, runTemporal } from './helpers/cli.js';
import { node, toyRoot, toySpec } from './helpers/loops.js';
import { notificationReceiver, until } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';
import { historyClass } from '../protocol/render/status-card.js';

/**
 * The rules behind human control, on the shared dev server: what a message may change, when it
 * takes effect, and that a bad one never jams a loop.
 */

const worker = useTestWorker();

let n = 0;
async function startLoop(overrides: Parameters<typeof toySpec>[2], files: Record<string, string> = {}) {
  const root = await toyRoot(files);
  const name = `rules-${process.pid}-${Date.now()}-${n++}`;
  const config = { ...toySpec(root, worker.taskQueue, overrides), name };
  const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-${name}`,
    taskQueue: worker.taskQueue,
    args: [{ config }],
  });
  return { root, handle, name };
}

const statusOf = async (name: string): Promise<LoopStatus> => {
  const res = await runCli(['status', name, '--json']);
  expect(res.code).toBe(0);
  return LoopStatusSchema.parse(JSON.parse(res.stdout));
};

const running = (root: string, session: number) =>
  until(
    async () =>
      (
        await readFile(
          join(root, `loop_station/flags/session_00${session}/TOY_EXEC-SESSION00${session}-EXECUTOR-RUNNING.flag`),
        )
      ).length > 0,
    `session ${session} to start`,
  );

describe('messages that could jam or bend a loop', () => {
  test('an externalFlag signal without a payload is recorded as rejected, and the loop goes on', async () => {
    const { root, handle, name } = await startLoop(
      { budget: { sessions: 2 }, reviewers: [] },
      { 'plan.json': JSON.stringify({ sleep: { 1: 1500 } }) },
    );
    await running(root, 1);
    expect((await runTemporal(['workflow', 'signal', '-w', `loop-${name}`, '--name', 'externalFlag'])).code).toBe(0);
    expect(
      (
        await runTemporal([
          'workflow',
          'signal',
          '-w',
          `loop-${name}`,
          '--name',
          'externalFlag',
          '--input',
          '{"file":"X.flag","path":"/etc"}',
        ])
      ).code,
    ).toBe(0);
    const result = (await handle.result()) as LoopResult;
    expect([result.stopReason, result.sessions]).toEqual(['budget_sessions', 2]);
    expect(result.interventions.filter((i) => i.kind === 'rejected').map((i) => [i.note, i.via])).toEqual([
      ['externalFlag: the payload must be an object {file, session?}', 'signal'],
      ['externalFlag: unknown field path', 'signal'],
    ]);
  });

  test('a stop signal without a payload stops after the session, like `stop` from the UI button', async () => {
    const { root, handle, name } = await startLoop(
      { budget: { sessions: 3 }, reviewers: [] },
      { 'plan.json': JSON.stringify({ sleep: { 1: 1500 } }) },
    );
    await running(root, 1);
    expect((await runTemporal(['workflow', 'signal', '-w', `loop-${name}`, '--name', 'stop'])).code).toBe(0);
    const result = (await handle.result()) as LoopResult;
    expect([result.stopReason, result.history.map((h) => h.class)]).toEqual(['user_stop', ['stop']]);
    // The session finished its work first: the executor was not cancelled.
    expect(
      await readFile(join(root, 'loop_station/flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-DONE.flag'), 'utf8'),
    ).toMatch(/^status: DONE$/m);
    expect(result.interventions.map((i) => [i.kind, i.note, i.via])).toEqual([['stop', 'after-session', 'signal']]);
    // The session it arrived in lists it, with who sent it (the temporal binary's identity).
    const decision = await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');
    expect(decision.slice(decision.indexOf('## Human Interventions'))).toMatch(
      /^- \S+ session 001 stop \(signal by temporal-cli:\S+@\S+\): after-session$/m,
    );
  });

  test('a wall-clock budget raised while a session runs reaches that session: its executor is not cancelled at the old limit', async () => {
    const { root, handle, name } = await startLoop(
      { budget: { sessions: 2, wallClock: '4s' }, reviewers: [] },
      { 'plan.json': JSON.stringify({ sleep: { 1: 6000 } }) },
    );
    await running(root, 1);
    const raised = await runCli(['extend', name, '--wall-clock', '1h']);
    // The new limits in words.
    expect([raised.code, raised.stderr]).toEqual([
      0,
      `loop-${name}: budget now 2 sessions, wall clock 1h, tokens unlimited, cost_usd unlimited\n`,
    ]);
    const result = (await handle.result()) as LoopResult;
    expect([result.stopReason, result.history.map((h) => h.class)]).toEqual(['budget_sessions', ['promote', 'stop']]);
    expect(
      await readFile(join(root, 'loop_station/flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-DONE.flag'), 'utf8'),
    ).toMatch(/^status: DONE$/m);
  });

  test('extend refuses to set a limit the loop did not have (that would lower its budget) and an ask_user approve', async () => {
    const { handle, name } = await startLoop({ budget: { sessions: 2 }, reviewers: [], askBefore: ['promote'] });
    await until(async () => (await statusOf(name)).pending?.kind === 'approval', 'the approval gate');
    const cut = await runCli(['extend', name, '--tokens', '100']);
    expect([cut.code, cut.stderr]).toEqual([
      1,
      `loop-station: loop-${name} rejected extend: extend only raises a budget: tokens: the loop has no tokens limit, so setting one would lower its budget\n`,
    ]);
    const asking = await runTemporal([
      'workflow',
      'update',
      'execute',
      '-w',
      `loop-${name}`,
      '--name',
      'approve',
      '--input',
      '{"session":1,"decision":"ask_user"}',
    ]);
    expect(asking.code).not.toBe(0);
    expect(asking.stderr).toMatch(
      /unable to update workflow: ✖ must be one of promote, keep, .*, stop \(an approve applies a decision; ask_user would not\)\\n {2}→ at decision/,
    );
    expect((await runCli(['deny', name, '--session', '1'])).code).toBe(0);
    const result = (await handle.result()) as LoopResult;
    expect([result.stopReason, result.sessions, result.best]).toEqual(['budget_sessions', 2, { session: 0, value: 0 }]);
  });
});

describe('approvals and the best', () => {
  test('a denied promote never becomes the best; an approved one does', async () => {
    // x goes 0 → 1 → 2 → 3: sessions 1 and 2 beat the best and wait in askBefore.
    const { root, handle, name } = await startLoop({ budget: { sessions: 3 }, reviewers: [], askBefore: ['promote'] });
    await until(async () => (await statusOf(name)).pending?.session === 1, 'the first gate');
    expect((await statusOf(name)).best).toEqual({ session: 0, value: 0 });
    expect((await runCli(['deny', name, '--session', '1'])).code).toBe(0);
    await until(async () => (await statusOf(name)).pending?.session === 2, 'the second gate');
    expect((await statusOf(name)).best).toEqual({ session: 0, value: 0 });
    expect((await runCli(['approve', name, '--session', '2'])).code).toBe(0);
    // Session 3 is the last: a budget stop, never gated; its candidate waits in askBefore, so it is not kept as the best.
    const result = (await handle.result()) as LoopResult;
    expect(result.best).toEqual({ session: 2, value: 2 });
    const board = (await readFile(join(root, 'loop_station/leaderboard.csv'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(',').slice(3, 9).join(','));
    // class,metric,value,protection,best_session,best_value: session 002's row says what it was when it
    // closed (one row per session, docs/protocol.md#leaderboard).
    expect(board).toEqual([
      'class,metric,value,protection,best_session,best_value',
      'baseline,score,0,pass,000,0',
      'promote,score,1,pass,000,0',
      'promote,score,2,pass,000,0',
      'stop,score,3,pass,002,2',
    ]);
    // The history (status --json, the result) keeps the held class and the answer beside it.
    expect(result.history.map((h) => [h.session, h.class, h.answer ?? null])).toEqual([
      [1, 'promote', { kind: 'denied', applied: 'keep' }],
      [2, 'promote', { kind: 'approved', applied: 'promote' }],
      [3, 'stop', null],
    ]);
    expect((await statusOf(name)).history.map(historyClass)).toEqual([
      'promote → keep (denied)',
      'promote (approved)',
      'stop',
    ]);
  });
});

describe('records that must not get lost', () => {
  test('SESSION_LEDGER.md keeps every intervention to the end', async () => {
    const { root, handle, name } = await startLoop(
      { budget: { sessions: 5 }, reviewers: [] },
      { 'plan.json': JSON.stringify({ sleep: { 1: 1500 } }) },
    );
    await running(root, 1);
    expect((await runCli(['redirect', name, 'try steps of ten'])).code).toBe(0);
    await handle.result();
    const ledger = await readFile(join(root, 'loop_station/summaries/SESSION_LEDGER.md'), 'utf8');
    const interventions = ledger.slice(ledger.indexOf('## Interventions'));
    expect(interventions).toMatch(/redirect .*try steps of ten/);
    expect(interventions).toMatch(/budget_warning .*sessions at 80% of the budget/);
  });

  test('notifications still on their way go out before continue-as-new; list shows the loop once', async () => {
    const hook = await notificationReceiver();
    try {
      const { handle } = await startLoop({
        budget: { sessions: 3 },
        reviewers: [],
        continueAsNewEvery: 1,
        notify: { webhook: hook.url, events: ['decision_made', 'loop_ended'] },
      });
      await handle.result();
      expect(hook.events.map((e) => [e.event, e.session])).toEqual([
        ['decision_made', 1],
        ['decision_made', 2],
        ['decision_made', 3],
        ['loop_ended', 3],
      ]);
      // Three runs (two continued as new) are one loop: list shows its latest run only.
      const rows = await until(async () => {
        const res = await runCli(['list', '--query', `WorkflowId="${handle.workflowId}"`, '--json']);
        const listed = LoopListSchema.parse(JSON.parse(res.stdout));
        return listed.some((r) => r.status === 'COMPLETED') ? listed : undefined;
      }, 'the completed run in list');
      expect(rows.map((r) => [r.workflowId, r.status, r.session])).toEqual([[handle.workflowId, 'COMPLETED', 3]]);
    } finally {
      await hook.close();
    }
  });
});

describe('the Temporal CLI as a second client', () => {
  /** Decodes a JSON payload the temporal CLI prints as {metadata, data: base64}. */
  const payload = (p: { data?: string } | undefined): unknown =>
    p?.data ? JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) : undefined;
  const listed = async (query: string): Promise<string[]> => {
    const res = await runTemporal(['workflow', 'list', '--query', query, '--output', 'json']);
    return (JSON.parse(res.stdout || '[]') as { execution: { workflowId: string } }[]).map(
      (w) => w.execution.workflowId,
    );
  };

  test('every message and view through the temporal binary: updates, signals, the status query, search attributes, memo, details, summaries', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ sleep: { 1: 1500, 3: 2000 } }) });
    const name = `native-${process.pid}-${Date.now()}`;
    const id = `loop-${name}`;
    await writeFile(
      join(root, 'loop.json'),
      JSON.stringify({
        name,
        root,
        goal: 'Raise the toy score',
        budget: { sessions: 4, perRun: '30s' },
        evidence: { command: `${JSON.stringify(process.execPath)} eval.mjs`, metric: 'score', direction: 'maximize' },
        workspace: ['work/**'],
        protected: ['eval.mjs', 'plan.json'],
        executor: { name: 'toy_exec', agent: 'shell', command: node('toy-executor.mjs') },
        askBefore: ['promote'],
        taskQueue: worker.taskQueue,
      }),
    );
    expect((await runCli(['submit', join(root, 'loop.json')])).code).toBe(0);
    const temporal = (...args: string[]) => runTemporal([...args, '-w', id]);
    // The temporal CLI prints empty arrays of a query result as null: read its fields, do not hold it to the schema.
    const query = async (): Promise<LoopStatus> =>
      (
        JSON.parse((await temporal('workflow', 'query', '--type', 'status', '--output', 'json')).stdout) as {
          queryResult: LoopStatus[];
        }
      ).queryResult[0]!;

    await running(root, 1);
    expect(
      (await temporal('workflow', 'update', 'execute', '--name', 'pause', '--input', '{"note":"coffee"}')).code,
    ).toBe(0);
    const gated = await until(async () => {
      const s = await query();
      return s.pending?.kind === 'approval' ? s : undefined;
    }, 'the first gate');
    expect([gated.phase, gated.paused, gated.session]).toEqual(['awaiting_approval', true, 1]);
    expect(await listed(`LoopName="${name}" AND LoopPhase="awaiting_approval" AND LoopSession=1`)).toEqual([id]);
    expect(
      (await temporal('workflow', 'update', 'execute', '--name', 'approve', '--input', '{"session":1,"note":"fine"}'))
        .code,
    ).toBe(0);
    await until(async () => (await query()).phase === 'paused', 'the paused phase');
    expect(await listed(`LoopName="${name}" AND LoopBest=1`)).toEqual([id]);
    expect((await temporal('workflow', 'signal', '--name', 'resume')).code).toBe(0);
    await until(async () => (await query()).pending?.session === 2, 'the second gate');
    expect((await temporal('workflow', 'update', 'execute', '--name', 'deny', '--input', '{"session":2}')).code).toBe(
      0,
    );
    await running(root, 3);
    expect(
      (
        await temporal(
          'workflow',
          'update',
          'execute',
          '--name',
          'stop',
          '--input',
          '{"mode":"after-session","reason":"enough"}',
        )
      ).code,
    ).toBe(0);

    const result = (await worker.client.workflow.getHandle(id).result()) as LoopResult;
    expect([result.stopReason, result.history.map((h) => h.class), result.best]).toEqual([
      'user_stop',
      ['promote', 'promote', 'stop'],
      { session: 1, value: 1 },
    ]);
    expect(result.interventions.map((i) => [i.kind, i.via])).toEqual([
      ['pause', 'update'],
      ['approve', 'update'],
      ['resume', 'signal'],
      ['deny', 'update'],
      ['stop', 'update'],
    ]);

    const described = JSON.parse((await temporal('workflow', 'describe', '--output', 'json')).stdout) as {
      workflowExecutionInfo: { memo: { fields: Record<string, unknown> } };
    };
    const memo = described.workflowExecutionInfo.memo.fields;
    expect([memo.goal, memo.metric, memo.direction]).toEqual(['Raise the toy score', 'score', 'maximize']);
    // Current details: the Markdown status card, as the UI shows it.
    const metadata = await temporal('workflow', 'metadata');
    expect(metadata.stdout).toMatch(new RegExp(`### ${name} · finished · session 3/4`));
    const history = JSON.parse(
      (await runTemporal(['workflow', 'show', '-w', `${id}/session-001`, '--output', 'json'])).stdout,
    ) as { events: { eventType: string; userMetadata?: { summary?: { data?: string } } }[] };
    const summaries = history.events
      .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')
      .map((e) => payload(e.userMetadata?.summary));
    expect(summaries).toEqual(['session 1 · executor toy_exec', 'session 1 · evidence']);
  });

  test('a namespace without the loop search attributes: submit says which one and how to register them', async () => {
    const namespace = `bare-${process.pid}-${Date.now()}`;
    const created = await run(inject('temporalBinary'), [
      'operator',
      'namespace',
      'create',
      '--namespace',
      namespace,
      '--address',
      inject('temporalAddress'),
    ]);
    expect(created.code).toBe(0);
    const root = await toyRoot();
    await writeFile(
      join(root, 'loop.json'),
      JSON.stringify({
        name: 'bare',
        root,
        goal: 'g',
        budget: { sessions: 1 },
        evidence: { command: 'true', metric: 'score' },
        executor: { agent: 'shell', command: 'true' },
        taskQueue: worker.taskQueue,
      }),
    );
    const res = await runCli(['submit', join(root, 'loop.json'), '--namespace', namespace]);
    // The server names the first attribute it misses, in its own order.
    expect([
      res.code,
      res.stderr.replace(/search attribute (LoopName|LoopPhase|LoopSession)\n/, 'search attribute Loop…\n'),
    ]).toEqual([
      1,
      [
        `loop-station: Failed to start Workflow: 3 INVALID_ARGUMENT: Namespace ${namespace} has no mapping defined for search attribute Loop…`,
        '  fix: register the loop search attributes once per namespace (`loop-station dev` does it for its own server):',
        '       temporal operator search-attribute create --namespace <namespace> --name LoopName --type Keyword --name LoopPhase --type Keyword --name LoopSession --type Int --name LoopBest --type Double',
        '',
      ].join('\n'),
    ]);
  });
});
