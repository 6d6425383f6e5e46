import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { describe, expect, inject, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import { findFreePorts, startDevServer, type DevServer } from '../server/dev-server.js';
import { createLoopWorkers } from '../worker/create-worker.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { toyRoot, toySpec } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';

/** A SQLite file's journal, from its header (byte 18, the write version: 1 rollback, 2 WAL). */
async function journalOf(dbFile: string): Promise<'rollback' | 'wal'> {
  const version = (await readFile(dbFile))[18];
  if (version !== 1 && version !== 2) throw new Error(`${dbFile}: not a SQLite file (write version ${version})`);
  return version === 2 ? 'wal' : 'rollback';
}

/**
 * The server dies mid-loop (SIGKILL, state in SQLite) and comes back on the same file: the worker
 * reconnects by itself and the loop resumes and completes, nothing lost or done twice.
 */
describe('a Temporal server restart', () => {
  test('a loop survives the dev server being killed and restarted on its database', async () => {
    const state = await testdir();
    const dbFile = join(state, 'temporal.db');
    const [port] = await findFreePorts(1);
    const start = () => startDevServer({ binary: inject('temporalBinary'), port: port!, headless: true, dbFile });
    let server: DevServer = await start();
    const root = await toyRoot({ 'plan.json': JSON.stringify({ sleep: { 2: 2500, 3: 500, 4: 500 } }) });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const workers = await createLoopWorkers({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue: 'restart',
      allowRoots: [root],
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    const running = workers.run();
    try {
      const config = toySpec(root, 'restart', { budget: { sessions: 4 }, reviewers: [] });
      const connection = await Connection.connect({ address: server.address });
      await new Client({ connection }).workflow.start<typeof loopWorkflow>('loopWorkflow', {
        workflowId: 'loop-restart',
        taskQueue: 'restart',
        args: [{ config }],
      });
      await connection.close();
      // Kill the server while session 2's executor runs.
      const flags = join(root, 'loop_station/flags/session_002');
      for (let i = 0; i < 200; i++) {
        if ((await readdir(flags).catch((): string[] => [])).includes('TOY_EXEC-SESSION002-EXECUTOR-RUNNING.flag'))
          break;
        await new Promise((r) => setTimeout(r, 50));
      }
      process.kill(server.pid, 'SIGKILL');
      await server.exited;
      await new Promise((r) => setTimeout(r, 1000));
      server = await start();
      const again = await Connection.connect({ address: server.address });
      const result = (await new Client({ connection: again }).workflow
        .getHandle('loop-restart')
        .result()) as LoopResult;
      await again.close();
      expect(result.history.map((h) => [h.session, h.class, h.value])).toEqual([
        [1, 'promote', 1],
        [2, 'promote', 2],
        [3, 'promote', 3],
        [4, 'stop', 4],
      ]);
      for (const n of [1, 2, 3, 4]) {
        const names = await readdir(join(root, `loop_station/flags/session_00${n}`));
        expect(names.filter((f) => /EXECUTOR-DONE|SUPERVISOR-DONE/.test(f)).sort()).toEqual([
          `LOOP_STATION-SESSION00${n}-SUPERVISOR-DONE.flag`,
          `TOY_EXEC-SESSION00${n}-EXECUTOR-DONE.flag`,
        ]);
      }
      expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
      // The file runs on a write-ahead log, reopened after the kill without a `-shm` index: the server
      // holds it exclusively (DEV_SERVER_SQLITE_PRAGMAS), so nothing is mapped that a network
      // filesystem could not share.
      expect(await journalOf(dbFile)).toBe('wal');
      expect((await readdir(state)).filter((f) => f.startsWith('temporal.db'))).not.toContain('temporal.db-shm');
    } finally {
      workers.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close().catch(() => undefined);
      await server.stop();
    }
  }, 180_000);

  test("a database written with SQLite's default journal opens under dev's pragmas with its runs", async () => {
    const state = await testdir();
    const dbFile = join(state, 'temporal.db');
    const [port] = await findFreePorts(1);
    const start = (extraSqlitePragmas?: Record<string, string>) =>
      startDevServer({
        binary: inject('temporalBinary'),
        port: port!,
        headless: true,
        dbFile,
        ...(extraSqlitePragmas ? { extraSqlitePragmas } : {}),
      });
    // As an older loop-station (or a bare `temporal server start-dev --db-filename`) left it.
    let server = await start({ journal_mode: 'delete', LOCKING_MODE: 'normal' });
    let connection = await Connection.connect({ address: server.address });
    try {
      // A run nobody works on stays open: it must be there after the switch.
      await new Client({ connection }).workflow.start('loopWorkflow', {
        workflowId: 'before-wal',
        taskQueue: 'nobody-polls',
        args: [],
      });
    } finally {
      await connection.close();
      await server.stop();
    }
    expect(await journalOf(dbFile)).toBe('rollback');
    server = await start();
    connection = await Connection.connect({ address: server.address });
    try {
      const described = await new Client({ connection }).workflow.getHandle('before-wal').describe();
      expect(described.status.name).toBe('RUNNING');
      expect(await journalOf(dbFile)).toBe('wal');
      expect(await readdir(state)).not.toContain('temporal.db-shm');
    } finally {
      await connection.close();
      await server.stop();
    }
  }, 60_000);
});
