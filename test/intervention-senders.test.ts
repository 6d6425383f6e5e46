import { readFile, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, test } from 'vitest';
import type { LoopResult } from '../protocol/schemas/messages.js';
import { connectLoopSource, dashboardIdentity } from '../ui/temporal-source.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { runCli, runTemporal } from './helpers/cli.js';
import { toyRoot, toySpec } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { until } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * Who made each intervention: the client identity Temporal records with every update and signal,
 * read back from the loop's history, for our CLI (user@host), the real `temporal` binary and the
 * dashboard's client (loop-station-ui@host).
 */

const worker = useTestWorker();
const me = `${userInfo().username}@${hostname()}`;

describe('who intervened', () => {
  test('status, the ledger, decision.md, the contract and the report name the sender of each message', async () => {
    // Session 1's executor stays until every message is sent (a fixed sleep ran out on a loaded machine).
    const gate = join(await testdir(), 'go');
    const root = await toyRoot({ 'plan.json': JSON.stringify({ lingerUntil: { 1: gate } }) });
    const name = `who-${process.pid}-${Date.now()}`;
    const config = { ...toySpec(root, worker.taskQueue, { budget: { sessions: 2 }, reviewers: [] }), name };
    const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId: `loop-${name}`,
      taskQueue: worker.taskQueue,
      args: [{ config }],
    });
    await until(
      async () =>
        (await readFile(join(root, 'loop_station/flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag')))
          .length > 0,
      'session 1',
    );
    // Our CLI (an update), the temporal binary (an update, a signal, and a signal the loop rejects), the dashboard.
    expect((await runCli(['redirect', name, 'from our cli'])).code).toBe(0);
    // From inside an agent's run (the variables the engine gives it): named as the agent, and refused
    // the commands that answer for the person, before anything is sent.
    const agentEnv = { LOOP_STATION_ROLE: 'EXECUTOR', LOOP_STATION_AGENT: 'TOY_EXEC', LOOP_STATION_SESSION: '001' };
    expect((await runCli(['redirect', name, 'from an agent'], { env: agentEnv })).code).toBe(0);
    for (const args of [
      ['approve', name, '--session', '1'],
      ['deny', name, '--session', '1'],
      ['extend', name, '--sessions', '9'],
      ['resume', name],
    ]) {
      const refused = await runCli(args, { env: agentEnv });
      expect([refused.code, refused.stderr]).toEqual([
        2,
        `loop-station: ${args[0]}: refused inside an agent's run (TOY_EXEC (executor, session 001)): it answers for ` +
          'the person who runs the loop\n  fix: say what you need in your report or proposal; the supervisor and ' +
          'the person read them. Nothing was sent\n',
      ]);
    }
    const temporal = (kind: 'update' | 'signal', message: string, input: string) =>
      runTemporal([
        'workflow',
        ...(kind === 'update' ? ['update', 'execute'] : ['signal']),
        '-w',
        `loop-${name}`,
        '--name',
        message,
        '--input',
        input,
      ]);
    expect((await temporal('update', 'pause', '{"note":"temporal update"}')).code).toBe(0);
    expect((await temporal('signal', 'resume', '{"note":"temporal signal"}')).code).toBe(0);
    expect((await temporal('signal', 'redirect', '{"note":""}')).code).toBe(0);
    const source = await connectLoopSource(
      { address: inject('temporalAddress'), namespace: inject('temporalNamespace') },
      { temporalUi: null },
    );
    try {
      expect(await source.control(`loop-${name}`, 'extend', { sessions: 3, note: 'from the page' })).toMatchObject({
        accepted: true,
      });
    } finally {
      await source.close();
      await writeFile(gate, '');
    }
    const result = (await handle.result()) as LoopResult;

    const human = result.interventions.filter((i) => i.via !== 'engine');
    expect(human.map((i) => [i.kind, i.via, i.by])).toEqual([
      ['redirect', 'update', me],
      ['redirect', 'update', `agent TOY_EXEC (executor, session 001) as ${me}`],
      // temporal 1.5.1 sends updates under its Go SDK client's default identity (pid@host@), signals under --identity.
      ['pause', 'update', expect.stringMatching(new RegExp(`^\\d+@${hostname()}@$`))],
      ['resume', 'signal', `temporal-cli:${me}`],
      ['rejected', 'signal', `temporal-cli:${me}`],
      ['extendBudget', 'update', dashboardIdentity()],
    ]);
    const ledger = await readFile(join(root, 'loop_station/summaries/SESSION_LEDGER.md'), 'utf8');
    expect(ledger).toMatch(new RegExp(` session 001 redirect \\(update by ${me}\\): from our cli$`, 'm'));
    expect(ledger).toMatch(new RegExp(` session 001 resume \\(signal by temporal-cli:${me}\\): temporal signal$`, 'm'));
    expect(await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8')).toMatch(
      new RegExp(` session 001 pause \\(update by \\d+@${hostname()}@\\): temporal update$`, 'm'),
    );
    const contract = JSON.parse(await readFile(join(root, 'loop_station/contract.json'), 'utf8')) as {
      amendments: { field: string; by?: string }[];
    };
    expect(contract.amendments.map((a) => [a.field, a.by])).toEqual([['budget.max_sessions', dashboardIdentity()]]);

    const status = await runCli(['status', name]);
    expect(status.stdout).toContain(`extendBudget (update by ${dashboardIdentity()}): `);
    const report = await runCli(['report', root, '--format', 'md', '--out', join(root, 'report.md')], {
      connect: false,
    });
    expect(report.code).toBe(0);
    expect(await readFile(join(root, 'report.md'), 'utf8')).toContain(`redirect (update by ${me}): from our cli`);
  });
});
