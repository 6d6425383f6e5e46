import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { devServerArgs, type DevServer, findFreePorts, startDevServer } from '../../server/dev-server.js';
import {
  DevServerDbInUseError,
  DevServerExitedError,
  DevServerPortInUseError,
  DevServerStartTimeoutError,
  SearchAttributeConflictError,
} from '../../server/errors.js';
import { findDevServer } from '../../server/db-claim.js';
import { isProcessAlive } from '../../server/file-lock.js';

// A fake CLI (a small Node program) plays `temporal`: these tests cover startDevServer's own logic
// in ~1 s each. The real binary is covered by the integration project's global setup.
const FAKE_CLI = join(import.meta.dirname, '../fixtures/fake-temporal/fake-cli.mjs');

let root: string;
let callLog: string;
let port: number;
let uiPort: number;
const started: DevServer[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ls-dev-'));
  callLog = join(root, 'calls.jsonl');
  [port = 0, uiPort = 0] = await findFreePorts(2);
  vi.stubEnv('FAKE_TEMPORAL_LOG', callLog);
  vi.stubEnv('FAKE_TEMPORAL_STATE', root);
  vi.stubEnv('FAKE_TEMPORAL_MODE', 'ok');
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
  vi.unstubAllEnvs();
  await rm(root, { recursive: true, force: true });
});

async function start(options: Partial<Parameters<typeof startDevServer>[0]> = {}): Promise<DevServer> {
  const server = await startDevServer({ binary: FAKE_CLI, port, uiPort, healthDeadlineMs: 10_000, ...options });
  started.push(server);
  return server;
}

/** The `temporal` calls the fake received, as argument lists. */
async function calls(): Promise<string[][]> {
  const text = await readFile(callLog, 'utf8').catch(() => '');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[]);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.unreachable('expected the start to fail'),
    (e: unknown) => e as Error,
  );
}

describe('startDevServer', () => {
  it('starts, then registers the search attributes and the 30-day retention on the namespace', async () => {
    const server = await start({ namespace: 'loops' });
    expect(server).toMatchObject({
      address: `127.0.0.1:${port}`,
      uiUrl: `http://127.0.0.1:${uiPort}`,
      namespace: 'loops',
    });
    expect(isProcessAlive(server.pid)).toBe(true);
    const setup = (await calls()).filter((c) => c[0] === 'operator' && c[2] !== 'health');
    const isolated = ['--disable-config-file', '--disable-config-env', '--color', 'never'];
    expect(setup).toEqual([
      [
        'operator',
        'search-attribute',
        'create',
        '--address',
        `127.0.0.1:${port}`,
        '--namespace',
        'loops',
        ...isolated,
        '--name',
        'LoopName',
        '--type',
        'Keyword',
        '--name',
        'LoopPhase',
        '--type',
        'Keyword',
        '--name',
        'LoopSession',
        '--type',
        'Int',
        '--name',
        'LoopBest',
        '--type',
        'Double',
      ],
      [
        'operator',
        'namespace',
        'update',
        '--address',
        `127.0.0.1:${port}`,
        '--namespace',
        'loops',
        ...isolated,
        '--retention',
        '30d',
      ],
    ]);
  });

  it('stops its process on stop() and reports the exit code', async () => {
    const server = await start({ headless: true });
    expect(server.uiUrl).toBeNull();
    await server.stop();
    expect(await server.exited).toBe(0);
    expect(isProcessAlive(server.pid)).toBe(false);
  });

  it('refuses a busy gRPC port before spawning anything, naming the port and the flag', async () => {
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((done) => blocker.once('listening', done));
    try {
      const error = await rejection(start());
      expect(error).toBeInstanceOf(DevServerPortInUseError);
      expect(error.message).toBe(
        `Temporal dev server: port ${port} is already in use\n` +
          `  fix: stop the process listening on ${port} (\`ss -ltnp 'sport = :${port}'\`) or pass \`--port <free port>\``,
      );
      expect(await calls()).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('recognises the CLI\'s own "port in use" message for the UI port', async () => {
    vi.stubEnv('FAKE_TEMPORAL_MODE', 'busy-ui');
    const error = await rejection(start());
    expect(error).toBeInstanceOf(DevServerPortInUseError);
    expect(error).toMatchObject({ port: uiPort, flag: '--ui-port' });
  });

  it('reports a server that dies during startup with its exit code and last output', async () => {
    vi.stubEnv('FAKE_TEMPORAL_MODE', 'crash');
    const error = await rejection(start());
    expect(error).toBeInstanceOf(DevServerExitedError);
    expect(error.message).toBe(
      'Temporal dev server exited during startup (exit code 2); its last output:\n' +
        '    time=2026-01-01T00:00:00.000 level=ERROR msg="failed starting server: unable to open database file: out of memory (14)"\n' +
        '  fix: read the output above; rerun with the server log level at info for more detail',
    );
  });

  it('retries while the database is still locked by a server that is stopping', async () => {
    vi.stubEnv('FAKE_TEMPORAL_MODE', 'locked-once');
    await start({ dbFile: join(root, 'db', 'temporal.db') });
    expect((await calls()).filter((c) => c[1] === 'start-dev')).toHaveLength(2);
  });

  it('does not take an answering port for health until its own process has announced itself', async () => {
    vi.stubEnv('FAKE_TEMPORAL_MODE', 'hang');
    const error = await rejection(start({ healthDeadlineMs: 1_500 }));
    expect(error).toBeInstanceOf(DevServerStartTimeoutError);
    expect(error.message).toBe(
      `Temporal dev server at 127.0.0.1:${port} was not healthy within 1500 ms; its last output:\n` +
        '    Stopping server...\n' +
        '  fix: the machine may be overloaded; raise the start deadline, or check the output above',
    );
  });

  it('stops the server it started when a search attribute has another type', async () => {
    vi.stubEnv('FAKE_TEMPORAL_MODE', 'conflict');
    const error = await rejection(start());
    expect(error).toBeInstanceOf(SearchAttributeConflictError);
    expect(error).toMatchObject({
      namespace: 'default',
      attribute: 'LoopSession',
      existingType: 'Keyword',
      wantedType: 'Int',
    });
    const spawned = (await calls()).filter((c) => c[1] === 'start-dev');
    expect(spawned).toHaveLength(1);
    // The port is free again: nothing was left running.
    const probe = createServer().listen(port, '127.0.0.1');
    await new Promise((done, fail) => probe.once('listening', done).once('error', fail));
    probe.close();
  });

  it('refuses a second server on the same database file and names the first', async () => {
    const dbFile = join(root, 'db', 'temporal.db');
    const first = await start({ dbFile, headless: true });
    expect(existsSync(`${dbFile}.pid`)).toBe(true);
    const [otherPort = 0] = await findFreePorts(1);
    const error = await rejection(start({ dbFile, port: otherPort, headless: true }));
    expect(error).toBeInstanceOf(DevServerDbInUseError);
    expect(error).toMatchObject({ dbFile, pid: first.pid, address: first.address });
    await first.stop();
    expect(existsSync(`${dbFile}.pid`)).toBe(false);
  });

  it('runs detached with its output in a log file, in its own session, findable through the database', async () => {
    const dbFile = join(root, 'db', 'temporal.db');
    const logFile = join(root, 'logs', 'server.log');
    const server = await start({ dbFile, logFile });
    expect(await readFile(logFile, 'utf8')).toContain(`Server:  localhost:${port}`);
    expect(await findDevServer(dbFile)).toEqual({ pid: server.pid, address: server.address });
    const session = execFileSync('ps', ['-o', 'sess=', '-p', String(server.pid)], { encoding: 'utf8' }).trim();
    expect(session).toBe(String(server.pid));
    await server.stop();
    expect(await findDevServer(dbFile)).toBeUndefined();
  });
});

describe('devServerArgs', () => {
  it('passes our dynamic config, extra values overriding ours', () => {
    const args = devServerArgs({
      port: 7233,
      uiPort: null,
      ip: '127.0.0.1',
      namespace: 'default',
      dbFile: '/x/temporal.db',
      extraDynamicConfig: { 'matching.numTaskqueueReadPartitions': 4, 'limit.historyCount.suggestContinueAsNew': 200 },
    });
    expect(args).toEqual([
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      '7233',
      '--log-level',
      'warn',
      '--headless',
      '--db-filename',
      '/x/temporal.db',
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=full',
      '--sqlite-pragma',
      'LOCKING_MODE=exclusive',
      '--dynamic-config-value',
      'system.enableActivityEagerExecution=true',
      '--dynamic-config-value',
      'matching.numTaskqueueReadPartitions=4',
      '--dynamic-config-value',
      'matching.numTaskqueueWritePartitions=1',
      '--dynamic-config-value',
      'history.transferProcessorMaxPollRPS=10000',
      '--dynamic-config-value',
      'limit.historyCount.suggestContinueAsNew=200',
    ]);
  });

  it('gives a database file our SQLite pragmas, extra ones overriding ours, and an in-memory one none', () => {
    const base = { port: 7233, uiPort: null, ip: '127.0.0.1', namespace: 'default' };
    const pragmas = (args: string[]) => args.flatMap((a, i) => (args[i - 1] === '--sqlite-pragma' ? [a] : []));
    expect(
      pragmas(
        devServerArgs({
          ...base,
          dbFile: '/x/t.db',
          extraSqlitePragmas: { journal_mode: 'delete', cache_size: '-4000' },
        }),
      ),
    ).toEqual(['journal_mode=delete', 'synchronous=full', 'LOCKING_MODE=exclusive', 'cache_size=-4000']);
    expect(devServerArgs({ ...base, dbFile: undefined, extraSqlitePragmas: { journal_mode: 'delete' } })).not.toContain(
      '--sqlite-pragma',
    );
  });
});
