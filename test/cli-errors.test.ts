import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { findFreePort, findFreePorts } from '../server/dev-server.js';
import { cli as cliArgs, run, runCli, writeToySpec } from './helpers/cli.js';
import { toyRoot } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * The CLI's failures as a user meets them, one process per command: where the server is not, a
 * connection option that cannot work, a spec that does not validate, a server not ready yet.
 */

/** `loop-station …` with no TEMPORAL_* of the machine and a config folder of its own. */
const cli = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const home = await testdir();
  return run(process.execPath, cliArgs(args), {
    env: { TEMPORAL_ADDRESS: '', TEMPORAL_PROFILE: '', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), ...env },
  });
};
const lines = (text: string) => text.trimEnd().split('\n');

describe('where no Temporal server is', () => {
  test.for(['status x', 'worker'])(
    '%s: a refused port is said to be refused at the address (exit 3)',
    async (command) => {
      const port = await findFreePort();
      const res = await cli([...command.split(' '), '--address', `127.0.0.1:${port}`]);
      expect([res.code, lines(res.stderr)[0]]).toEqual([
        3,
        `loop-station: cannot reach Temporal at 127.0.0.1:${port} (namespace default): connection refused: nothing listens on 127.0.0.1:${port}`,
      ]);
      expect(lines(res.stderr)[1]).toBe('  fix: start a local server and worker with `npx loop-station dev`,');
    },
  );

  test.for(['list', 'worker'])('%s: an unknown host is said to be unknown (exit 3)', async (command) => {
    const res = await cli([command, '--address', 'no-such-host.invalid:7233']);
    expect(res.code).toBe(3);
    expect(lines(res.stderr)[0]).toMatch(
      /^loop-station: cannot reach Temporal at no-such-host\.invalid:7233 \(namespace default\): unknown host no-such-host\.invalid: /,
    );
    expect(lines(res.stderr)[1]).toBe(
      '  fix: check the host name in --address (or TEMPORAL_ADDRESS, or the profile in use)',
    );
  });

  test.for([
    [['status', 'x', '--address', '127.0.0.1'], '--address 127.0.0.1: has no port'],
    [
      ['worker', '--address', 'http://127.0.0.1:7233'],
      '--address http://127.0.0.1:7233: has a scheme; an address is host:port without one',
    ],
  ] as const)('%j: a malformed address is a usage error (exit 2)', async ([args, first]) => {
    const res = await cli([...args]);
    expect([res.code, lines(res.stderr)]).toEqual([
      2,
      [
        `loop-station: ${first}`,
        '  fix: give host:port, such as 127.0.0.1:7233 or my-namespace.a1b2c.tmprl.cloud:7233',
      ],
    ]);
  });
});

describe('connection options that cannot work: the option, the value, the fix, exit 2', () => {
  test('--tls-ca-path at a missing file', async () => {
    const res = await cli(['list', '--tls-ca-path', '/nowhere/ca.pem']);
    expect([res.code, lines(res.stderr)]).toEqual([
      2,
      [
        'loop-station: --tls-ca-path /nowhere/ca.pem: no such file',
        '  fix: give the path of the CA certificate that signed the server certificate (a PEM file)',
      ],
    ]);
  });

  test('--tls-cert-path without --tls-key-path, from a client command and from the worker', async () => {
    for (const command of ['status x', 'worker']) {
      const res = await cli([...command.split(' '), '--tls-cert-path', 'client.pem']);
      expect([res.code, lines(res.stderr)]).toEqual([
        2,
        [
          'loop-station: --tls-cert-path client.pem: needs --tls-key-path too',
          '  fix: mTLS takes the client certificate and its key: pass both, or neither',
        ],
      ]);
    }
  });

  test('TEMPORAL_PROFILE=nope names the config file read and its profiles', async () => {
    const home = await testdir();
    const file = join(home, 'temporal.toml');
    await writeFile(
      file,
      '[profile.default]\naddress = "127.0.0.1:7233"\n[profile.staging]\naddress = "staging:7233"\n',
    );
    for (const command of ['list', 'worker']) {
      const res = await cli([command], { TEMPORAL_PROFILE: 'nope', TEMPORAL_CONFIG_FILE: file });
      expect([res.code, lines(res.stderr)]).toEqual([
        2,
        [
          `loop-station: TEMPORAL_PROFILE nope: no such profile (${file} has default, staging)`,
          `  fix: set TEMPORAL_PROFILE to one of its profiles, or unset it, or add [profile.nope] to ${file}`,
        ],
      ]);
    }
  });
});

describe('a spec that does not validate is a usage error from every command that reads one', () => {
  test('submit (YAML and JSON) and init exit 2; nothing reaches a server', async () => {
    const dir = await testdir();
    await writeFile(join(dir, 'bad.yaml'), 'name: Bad Name\n');
    await writeFile(join(dir, 'bad.json'), '{"name": "x",}');
    const port = await findFreePort(); // closed: a spec error missed would exit 3
    const codes = await Promise.all([
      run(process.execPath, cliArgs(['submit', 'bad.yaml', '--address', `127.0.0.1:${port}`]), { cwd: dir }),
      run(process.execPath, cliArgs(['submit', 'bad.json', '--wait', '--address', `127.0.0.1:${port}`]), { cwd: dir }),
      run(process.execPath, cliArgs(['submit', 'missing.yaml', '--address', `127.0.0.1:${port}`]), { cwd: dir }),
      run(
        process.execPath,
        cliArgs(['init', 'new.yaml', '--name', 'Bad Name', '--goal', 'g', '--evidence', 'e', '--metric', 'm']),
        { cwd: dir },
      ),
    ]);
    expect(codes.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(codes.map((r) => /\n {2}fix: /.test(r.stderr))).toEqual([true, true, true, true]);
  });
});

describe('loop-station server status', () => {
  const worker = useTestWorker();

  test('ready where a worker polls the task queue (exit 0); not ready, naming what is missing, where none does (exit 1)', async () => {
    const ready = await runCli(['server', 'status', '--task-queue', worker.taskQueue, '--json']);
    expect(ready.code).toBe(0);
    expect(JSON.parse(ready.stdout)).toMatchObject({
      ready: true,
      missingSearchAttributes: [],
      problems: [],
      taskQueue: worker.taskQueue,
    });
    expect((JSON.parse(ready.stdout) as { workflowPollers: number }).workflowPollers).toBeGreaterThan(0);
    const queue = `nobody-${process.pid}-${Date.now()}`;
    const idle = await runCli(['server', 'status', '--task-queue', queue, '--wait', '1s']);
    expect([idle.code, idle.stdout, lines(idle.stderr)]).toEqual([
      1,
      '',
      [
        `loop-station: not ready after waiting 1s: no worker polls task queue ${queue}`,
        `  fix: start a worker: \`loop-station worker --task-queue ${queue}\` (or \`loop-station dev\`)`,
      ],
    ]);
  });

  test('a namespace the server does not have is said as such, with the fix, by every command', async () => {
    for (const args of [
      ['server', 'status', '--namespace', 'nope'],
      ['status', 'some-loop', '--namespace', 'nope'],
      ['list', '--namespace', 'nope'],
    ]) {
      const r = await runCli(args);
      expect([r.code, r.stderr.split('\n')[0]]).toEqual([
        1,
        'loop-station: namespace nope does not exist on this server',
      ]);
      expect(r.stderr).toMatch(/\n {2}fix: give the namespace loops run in with --namespace/);
    }
  });

  test('--wait waits for a server that is not listening yet, as a script that starts dev in the background needs', async () => {
    // The shared server behind a port that opens only once the command is waiting.
    const port = await findFreePort();
    const [host, target] = inject('temporalAddress').split(':') as [string, string];
    const forward = createServer((socket) => {
      const upstream = connectTcp(Number(target), host);
      socket.pipe(upstream).pipe(socket);
      const end = () => (socket.destroy(), upstream.destroy());
      socket.on('error', end);
      upstream.on('error', end);
    });
    const waiting = runCli(
      ['server', 'status', '--task-queue', worker.taskQueue, '--wait', '60s', '--address', `127.0.0.1:${port}`],
      { connect: false },
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    forward.listen(port, '127.0.0.1');
    try {
      const ready = await waiting;
      expect([ready.code, ready.stdout]).toEqual([
        0,
        `ready: 127.0.0.1:${port} namespace default task queue ${worker.taskQueue}\n`,
      ]);
    } finally {
      forward.close();
    }
  });
});

describe('submit to a local server whose search attributes are not registered yet', () => {
  const started: ChildProcess[] = [];
  afterAll(() => {
    for (const child of started) child.kill('SIGKILL');
  });

  test('waits for them, as while `loop-station dev` is starting, then starts the loop', async () => {
    const binary = inject('temporalBinary');
    const [port, uiPort] = await findFreePorts(2);
    const address = `127.0.0.1:${port}`;
    // A bare dev server: it answers health checks before anything registers the loop attributes.
    const server = spawn(
      binary,
      [
        'server',
        'start-dev',
        '--headless',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--ui-port',
        String(uiPort),
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    );
    started.push(server);
    const temporal = (...args: string[]) =>
      run(binary, [...args, '--address', address, '--disable-config-file', '--disable-config-env']);
    for (let i = 0; i < 300 && !(await temporal('operator', 'cluster', 'health')).stdout.includes('SERVING'); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const root = await toyRoot();
    await mkdir(root, { recursive: true });
    const { file, name } = await writeToySpec(root, 'nobody-runs-this');
    const submitting = spawn(process.execPath, cliArgs(['submit', file, '--address', address]), {
      env: { ...process.env, NO_COLOR: '1' },
    });
    started.push(submitting);
    let stdout = '';
    let stderr = '';
    submitting.stdout!.on('data', (d) => (stdout += String(d)));
    submitting.stderr!.on('data', (d) => (stderr += String(d)));
    // 'close', not 'exit': the process can exit before its stdout has been read to the end.
    const exited = new Promise<number | null>((resolve) => submitting.once('close', resolve));
    // Register them only once submit says it waits: it must have found them missing first.
    for (let i = 0; i < 300 && !stderr.includes('waiting up to') && submitting.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const args = [
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
    ];
    expect((await temporal('operator', 'search-attribute', 'create', ...args)).code).toBe(0);
    expect([await exited, stdout]).toEqual([0, `loop-${name}\n`]);
    expect(lines(stderr)[0]).toBe(
      'waiting up to 15 s for the search attributes LoopName, LoopPhase, LoopSession, LoopBest (is loop-station dev starting?)',
    );
  });
});
