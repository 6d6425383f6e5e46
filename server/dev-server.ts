import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { claimDbFile } from './db-claim.js';
import { DEFAULTS, SEARCH_ATTRIBUTES } from './defaults.js';
import {
  DevServerExitedError,
  DevServerPortInUseError,
  DevServerStartTimeoutError,
  SearchAttributeConflictError,
  TemporalCommandError,
} from './errors.js';
import { type ChildExit, type SupervisedChild, spawnSupervised } from './server-process.js';
import { ISOLATED_CLIENT_FLAGS, isServing, runTemporal } from './temporal-cli.js';

export { DEFAULTS, SEARCH_ATTRIBUTES } from './defaults.js';

/** Closed runs are kept this long (the dev server's own default is 24 h): loops are reviewed days later. */
export const NAMESPACE_RETENTION = '30d';

/**
 * `--dynamic-config-value` pairs for the dev server (dynamicconfig/development-sql.yaml holds the same
 * for the production layout). Updates need no flag: `frontend.enableUpdateWorkflowExecution` defaults to
 * true in server 1.29. `limit.historyCount.suggestContinueAsNew` stays at 4,096 unless a test asks.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = {
  // The workflow-task completion hands back the first activity task, skipping a matching round trip.
  // Before the transfer-queue limit below was raised it took sequential activities from ~88–101 ms to
  // ~32–51 ms each; with that limit raised it helps little: without it the engine took 1.06× and
  // 1.01× as long in two `npm run bench -- overhead` runs (2026-12-06, AMD EPYC), within the
  // machine's drift, and interleaved loops on an Intel Xeon (2026-12-07) found no direction either.
  'system.enableActivityEagerExecution': true,
  // One partition per task queue: loops move a few tasks a minute, and with the default 4 an idle
  // poller can wait on one partition while a task sits in another until forwarding moves it. With
  // the default 4, the engine took 1.07× and 1.21× as long in the same two runs (no direction on the
  // Intel Xeon either: docs/operations.md#dev).
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  // The history service reads its transfer queue (the tasks that dispatch every workflow and activity
  // task) at most 20 times a second per shard, and the dev server has one shard: after a burst of
  // ~12, each sequential step waits for that limiter. `npm run bench -- overhead` measures both in
  // one run (Intel Xeon, 2 cores, 2026-12-07 15:32, medians in BENCH.md): activity round trip
  // 100.54 → 15.28 ms, child workflow 200.08 → 36.32 ms, engine time per no-op session 500 → 234.5 ms.
  // It is a ceiling, not a rate: an idle server used 40–50 ms of CPU per 30 s with it and without it.
  'history.transferProcessorMaxPollRPS': 10_000,
} as const satisfies Record<string, unknown>;

/**
 * `--sqlite-pragma` pairs for a dev server with a database file (`loop-station dev`'s own); an
 * in-memory database gets none.
 */
export const DEV_SERVER_SQLITE_PRAGMAS = {
  // A write-ahead log instead of SQLite's default rollback journal: a commit is one append and one
  // fsync of the log, not a journal file written, synced and deleted. On 2026-12-06 (AMD EPYC, 2
  // cores) the server made ~65 fsyncs per no-op session instead of ~250, and in two interleaved
  // `npm run bench -- overhead` runs the engine took 236.5 and 294.7 ms per session instead of
  // 279.7 and 354.4 ms, a child workflow 30.2 and 36.7 ms instead of 45.8 and 48.1.
  journal_mode: 'wal',
  // Every commit synced, as with the default journal: a step the server acknowledged survives a power cut.
  synchronous: 'full',
  // The server is the file's one user (one connection; `<db>.pid` keeps a second server off), so the
  // log's index stays in its memory: no `-shm` file is mapped, which network filesystems cannot share.
  // Upper case on purpose: the server applies the pragmas in the sorted order of their names, and
  // this one must come before journal_mode, or reopening a WAL file maps the `-shm` all the same
  // (pragma names are case-insensitive; test/server-restart.test.ts checks that no `-shm` appears).
  LOCKING_MODE: 'exclusive',
} as const satisfies Record<string, string>;

export interface StartDevServerOptions {
  /** The Temporal CLI, from ensureTemporalBinary(). */
  readonly binary: string;
  /** gRPC port. @default 7233 */
  readonly port?: number;
  /** @default port + 1000 */
  readonly uiPort?: number;
  /** No Web UI. @default false */
  readonly headless?: boolean;
  /** SQLite file; its directory is created. undefined = in memory, lost on stop. */
  readonly dbFile?: string;
  /** Created if missing; gets the search attributes and retention. @default 'default' */
  readonly namespace?: string;
  /** @default '127.0.0.1' */
  readonly ip?: string;
  /** The server's own log level (`debug`, `info`, `warn`, `error`). @default 'warn' */
  readonly logLevel?: string;
  /** More `--dynamic-config-value` pairs; they override DEV_SERVER_DYNAMIC_CONFIG. */
  readonly extraDynamicConfig?: Record<string, unknown>;
  /** More `--sqlite-pragma` pairs for a database file; they override DEV_SERVER_SQLITE_PRAGMAS. */
  readonly extraSqlitePragmas?: Record<string, string>;
  /** Every line the server prints. */
  readonly log?: (line: string) => void;
  /** @default 60_000 */
  readonly healthDeadlineMs?: number;
  /**
   * Run detached: output is appended to this file and the server outlives this process (a
   * background server; find it later through `<dbFile>.pid`). undefined: it stops when we exit.
   */
  readonly logFile?: string;
}

export interface DevServer {
  /** `host:port` for clients and workers. */
  readonly address: string;
  readonly uiUrl: string | null;
  readonly namespace: string;
  readonly pid: number;
  /** SIGTERM, SIGKILL after 10 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

const STOP_GRACE_MS = 10_000;
const POLL_MS = 150;
/** How long a start is retried while an old server still holds the SQLite file. */
const DB_LOCKED_RETRY_MS = 10_000;

/**
 * Starts `temporal server start-dev`, waits until it is healthy, then registers the search
 * attributes and the retention on the namespace (both idempotent, so every start does it).
 */
export async function startDevServer(options: StartDevServerOptions): Promise<DevServer> {
  const port = options.port ?? DEFAULTS.port;
  const uiPort = options.headless === true ? null : (options.uiPort ?? port + 1000);
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? DEFAULTS.namespace;
  const address = `${clientHost(ip)}:${port}`;
  const dbFile = options.dbFile === undefined ? undefined : resolve(options.dbFile);

  await assertPortFree(ip, port, '--port');
  if (uiPort !== null) await assertPortFree(ip, uiPort, '--ui-port');
  if (dbFile !== undefined) await mkdir(dirname(dbFile), { recursive: true });
  const claim = dbFile === undefined ? undefined : await claimDbFile(dbFile);

  let child: SupervisedChild | undefined;
  try {
    child = await spawnHealthy(
      options,
      devServerArgs({ ...options, port, uiPort, ip, namespace, dbFile }),
      address,
      port,
    );
    await registerSearchAttributes({ binary: options.binary, address, namespace, isolated: true });
    await setNamespaceRetention({ binary: options.binary, address, namespace, isolated: true });
    await claim?.record(child.pid, address);
    if (options.logFile !== undefined) child.release();
  } catch (error) {
    await child?.stop(STOP_GRACE_MS);
    await claim?.release();
    throw error;
  }

  const server = child;
  const exited = server.exited.then(async (exit) => {
    await claim?.release();
    return exit.code;
  });
  return {
    address,
    uiUrl: uiPort === null ? null : `http://${clientHost(ip)}:${uiPort}`,
    namespace,
    pid: server.pid,
    exited,
    stop: async () => {
      await server.stop(STOP_GRACE_MS);
      await exited;
    },
  };
}

/** Spawns until healthy; retries while an old server still holds the SQLite file (`database is locked`). */
async function spawnHealthy(
  options: StartDevServerOptions,
  args: readonly string[],
  address: string,
  port: number,
): Promise<SupervisedChild> {
  const deadlineMs = options.healthDeadlineMs ?? 60_000;
  const deadline = Date.now() + deadlineMs;
  const lockedUntil = Date.now() + DB_LOCKED_RETRY_MS;
  // The CLI prints `Server:  localhost:7233` once the server has started, never for a failed start.
  const banner = new RegExp(`^Server:\\s+\\S+:${port}\\s*$`);
  if (options.logFile !== undefined) await mkdir(dirname(resolve(options.logFile)), { recursive: true });
  for (;;) {
    let announced = false;
    const onLine = (line: string) => {
      if (banner.test(line)) announced = true;
      options.log?.(line);
    };
    const child = spawnSupervised(options.binary, args, onLine, { logFile: options.logFile });
    const outcome = await waitHealthy(child, () => announced, options.binary, address, deadline);
    if (outcome === 'healthy') return child;
    if (outcome === 'db-locked' && Date.now() < lockedUntil) {
      await sleep(500);
      continue;
    }
    if (outcome === 'timeout') {
      await child.stop(STOP_GRACE_MS);
      throw new DevServerStartTimeoutError(address, deadlineMs, child.tail());
    }
    throw outcome === 'db-locked'
      ? new DevServerExitedError(child.exitStatus()?.code ?? null, null, child.tail())
      : outcome;
  }
}

/** The `temporal` arguments for a dev server; exported for tests. */
export function devServerArgs(o: {
  port: number;
  uiPort: number | null;
  ip: string;
  namespace: string;
  dbFile: string | undefined;
  logLevel?: string;
  extraDynamicConfig?: Record<string, unknown>;
  extraSqlitePragmas?: Record<string, string>;
}): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port), '--log-level', o.logLevel ?? 'warn'];
  args.push(...(o.uiPort === null ? ['--headless'] : ['--ui-port', String(o.uiPort)]));
  if (o.dbFile !== undefined) {
    args.push('--db-filename', o.dbFile);
    for (const [pragma, value] of Object.entries({ ...DEV_SERVER_SQLITE_PRAGMAS, ...o.extraSqlitePragmas }))
      args.push('--sqlite-pragma', `${pragma}=${value}`);
  }
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  const dynamic = { ...DEV_SERVER_DYNAMIC_CONFIG, ...o.extraDynamicConfig };
  for (const [key, value] of Object.entries(dynamic))
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  return args;
}

type StartOutcome = 'healthy' | 'db-locked' | 'timeout' | Error;

/** Polls health until OUR child has announced itself and the port answers: a probe alone could reach another server. */
async function waitHealthy(
  child: SupervisedChild,
  announced: () => boolean,
  binary: string,
  address: string,
  deadline: number,
): Promise<StartOutcome> {
  while (Date.now() < deadline) {
    const exit = child.exitStatus();
    if (exit !== undefined) return startFailure(child.tail(), exit);
    if (announced() && (await isServing(binary, address)) && child.exitStatus() === undefined) return 'healthy';
    await sleep(POLL_MS);
  }
  const exit = child.exitStatus();
  return exit === undefined ? 'timeout' : startFailure(child.tail(), exit);
}

function startFailure(output: string, exit: ChildExit): StartOutcome {
  if (/database is locked|SQLITE_BUSY/i.test(output)) return 'db-locked';
  const busy = /can't (?:set|use default) (frontend|UI) port (\d+)/i.exec(output);
  if (busy?.[2] !== undefined)
    return new DevServerPortInUseError(Number(busy[2]), busy[1] === 'UI' ? '--ui-port' : '--port');
  return new DevServerExitedError(exit.code, exit.signal, output);
}

export interface NamespaceTarget {
  readonly binary: string;
  readonly address: string;
  readonly namespace: string;
  /** Ignore the user's TEMPORAL_* variables and CLI profiles (for our own local server). @default false */
  readonly isolated?: boolean;
}

/** Registers SEARCH_ATTRIBUTES on the namespace; a rerun is a no-op, a type clash throws SearchAttributeConflictError. */
export async function registerSearchAttributes(target: NamespaceTarget): Promise<void> {
  const args = ['operator', 'search-attribute', 'create', ...clientFlags(target)];
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--name', name, '--type', type);
  try {
    await runTemporal(target.binary, args);
  } catch (error) {
    const clash =
      error instanceof TemporalCommandError
        ? /search attribute (\w+) already exists and has different type (\w+)/.exec(error.output)
        : null;
    if (clash?.[1] === undefined || clash[2] === undefined) throw error;
    const wanted = SEARCH_ATTRIBUTES[clash[1] as keyof typeof SEARCH_ATTRIBUTES] ?? 'another type';
    throw new SearchAttributeConflictError(target.namespace, clash[1], clash[2], wanted, { cause: error });
  }
}

/** Sets the namespace retention to NAMESPACE_RETENTION (persists in the database). */
export async function setNamespaceRetention(target: NamespaceTarget): Promise<void> {
  await runTemporal(target.binary, [
    'operator',
    'namespace',
    'update',
    ...clientFlags(target),
    '--retention',
    NAMESPACE_RETENTION,
  ]);
}

function clientFlags(target: NamespaceTarget): string[] {
  return [
    '--address',
    target.address,
    '--namespace',
    target.namespace,
    ...(target.isolated === true ? ISOLATED_CLIENT_FLAGS : []),
  ];
}

/** A free TCP port on 127.0.0.1, chosen by the OS. Another process may take it before you do. */
export async function findFreePort(): Promise<number> {
  const [port] = await findFreePorts(1);
  return port!;
}

/** `count` distinct free ports (e.g. gRPC + UI), all held open together while choosing. */
export async function findFreePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => listen('127.0.0.1', 0)));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

async function assertPortFree(ip: string, port: number, flag: '--port' | '--ui-port'): Promise<void> {
  const server = await listen(ip, port).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') throw new DevServerPortInUseError(port, flag);
    throw error;
  });
  await new Promise((done) => server.close(done));
}

function listen(host: string, port: number): Promise<ReturnType<typeof createServer>> {
  return new Promise((resolveListen, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => resolveListen(server));
  });
}

/** Where a client on this machine reaches a server bound to `ip`. */
function clientHost(ip: string): string {
  if (ip === '0.0.0.0' || ip === 'localhost') return '127.0.0.1';
  if (ip === '::') return '[::1]';
  return ip.includes(':') ? `[${ip}]` : ip;
}
