import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { findFreePorts } from '../server/dev-server.js';
import { descendantsOf, isAlive } from '../activities/agents/process-tree.js';
import { BIN, cli, run } from './helpers/cli.js';
import { testdir } from './helpers/testdir.js';

/** `loop-station dev` as a user runs it: a real server with UI, search attributes, state that survives a restart. */

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function withoutNodeOptions(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _, ...env } = process.env;
  return env;
}

async function startDev(
  cwd: string,
  port: number,
  uiPort: number,
): Promise<{ child: ChildProcess; output: () => string }> {
  let output = '';
  const child = spawn(
    process.execPath,
    [BIN, 'dev', '--port', String(port), '--ui-port', String(uiPort), '--dashboard-port', '0'],
    {
      cwd,
      // Without NODE_OPTIONS: the flags dev gives its worker are dev's own.
      env: { ...withoutNodeOptions(), LOOP_STATION_TEMPORAL_BIN: inject('temporalBinary') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const deadline = Date.now() + 90_000;
  while (!/^Ready: {9}search attributes registered, worker polling task queue loop-station$/m.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`loop-station dev did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => output };
}

const temporal = (port: number, ...args: string[]) =>
  run(inject('temporalBinary'), [
    ...args,
    '--address',
    `127.0.0.1:${port}`,
    '--disable-config-file',
    '--disable-config-env',
    '--color',
    'never',
  ]);

describe('loop-station dev', () => {
  test('serves gRPC and the UI, registers the search attributes, keeps state across a restart, stops cleanly', async () => {
    const cwd = await testdir();
    const [port, uiPort] = await findFreePorts(2);
    const first = await startDev(cwd, port!, uiPort!);
    expect(first.output()).toMatch(new RegExp(`^Temporal gRPC: 127\\.0\\.0\\.1:${port}$`, 'm'));
    expect(first.output()).toMatch(new RegExp(`^Temporal UI:   http://127\\.0\\.0\\.1:${uiPort}$`, 'm'));
    expect(first.output()).toMatch(/^State:         \.loop-station\/temporal\.db$/m);
    // The dashboard, on loopback, reading this server; printed before the Ready line.
    const dashboard = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(first.output())?.[1];
    expect(dashboard).toBeDefined();
    const home = await fetch(dashboard!);
    expect([home.status, (await home.text()).includes('namespace default')]).toEqual([200, true]);
    // Ready means ready: a script may check and submit at once.
    const status = await run(process.execPath, cli(['server', 'status', '--address', `127.0.0.1:${port}`, '--json']));
    expect([status.code, (JSON.parse(status.stdout) as { ready: boolean }).ready]).toEqual([0, true]);

    expect((await temporal(port!, 'operator', 'cluster', 'health')).stdout).toMatch(/SERVING/);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    const attributes = (await temporal(port!, 'operator', 'search-attribute', 'list')).stdout;
    for (const [name, type] of [
      ['LoopName', 'Keyword'],
      ['LoopPhase', 'Keyword'],
      ['LoopSession', 'Int'],
      ['LoopBest', 'Double'],
    ]) {
      expect(attributes).toMatch(new RegExp(`^\\s*${name}\\s+${type}\\s*$`, 'm'));
    }
    // A finished workflow on this server…
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    await new Client({ connection }).workflow.start('noSuchWorkflowType', {
      workflowId: 'kept-across-restart',
      taskQueue: 'nobody',
    });
    await temporal(port!, 'workflow', 'terminate', '-w', 'kept-across-restart', '--reason', 'test');
    await connection.close();

    // …survives SIGTERM (no orphan server left) and a new start on the same state file.
    const serverPid = Number(
      (await run('sh', ['-c', `cat ${join(cwd, '.loop-station/temporal.db.pid')} 2>/dev/null || true`])).stdout.match(
        /\d+/,
      )?.[0] ?? 0,
    );
    first.child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => first.child.once('exit', resolve));
    expect(code).toBe(0);
    if (serverPid) expect(isAlive(serverPid)).toBe(false);
    const second = await startDev(cwd, port!, uiPort!);
    const listed = await temporal(port!, 'workflow', 'list', '--query', "WorkflowId='kept-across-restart'");
    expect(listed.stdout).toMatch(/kept-across-restart/);

    // Its worker runs with its memory bounded: the heap capped, the young generation at 8 MB a semi-space.
    const spawned = descendantsOf(second.child.pid!);
    const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const worker = spawned.map(cmdline).find((args) => args.includes('worker') && args.includes('--task-queue'));
    expect(worker?.slice(1, 3)).toEqual(['--max-old-space-size=256', '--max-semi-space-size=8']);

    // Killed outright, it leaves nothing running: the worker notices its parent is gone and stops.
    expect(spawned.length).toBeGreaterThan(0);
    second.child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while (spawned.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(spawned.filter(isAlive)).toEqual([]);
  }, 180_000);
});
