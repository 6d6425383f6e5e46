import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findFreePorts } from '../server/dev-server.js';
import { BIN, run } from './helpers/cli.js';
import { testdir } from './helpers/testdir.js';

/** `loop-station demo` as a user runs it: its own dev server, UI and worker, then the summary and the report. */

const ID = String.raw`loop-denoise-psnr-\d{8}-\d{6}`;
const PROGRESS = new RegExp(
  String.raw`^${ID} \[[#.]{20}\] session \d/\d · [a-z_]+ · 0h00m\d\ds · best psnr (-|\d+\.\d{3} \(session \d\))$`,
);
const ROW = (session: string) => new RegExp(String.raw`^${session} +[a-z_]+ +\d+(\.\d+)? +\d+(\.\d+)?$`);

const demo = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [BIN, 'demo', ...args], { cwd, env, timeoutMs: 180_000 });

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });

/** A free gRPC port whose default UI port (+1000) is free too. */
async function freeDevPort(): Promise<number> {
  for (;;) {
    const [port] = await findFreePorts(1);
    if (port! + 1000 < 65_536 && (await isFree(port! + 1000))) return port!;
  }
}

describe('loop-station demo', () => {
  test('--sessions 2 on given ports: progress and the UI link on stderr, the summary table on stdout, the report on disk', async () => {
    const cwd = await testdir({}, 'loop-station-demo-cmd-');
    const [port, uiPort] = await findFreePorts(2);
    const res = await demo(cwd, [
      '--sessions',
      '2',
      '--dir',
      'out',
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--dashboard-port',
      '0',
    ]);
    expect([res.code, res.stderr.split('\n').filter((l) => /^loop-station:/.test(l))]).toEqual([0, []]);

    const err = res.stderr.trimEnd().split('\n');
    const workflowId = new RegExp(`^started (${ID}): 2 sessions$`).exec(
      err.find((l) => l.startsWith('started '))!,
    )![1]!;
    const link = `http://127.0.0.1:${uiPort}/namespaces/default/workflows/${workflowId}`;
    const dashboard = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(res.stdout)?.[1];
    expect(err.filter((l) => /^(demo folder|generating|started|watch it|steer it)/.test(l))).toEqual([
      `demo folder: ${join(cwd, 'out')}`,
      'generating the image set and the workspace (examples/denoise-psnr/setup.mjs)…',
      `started ${workflowId}: 2 sessions`,
      `watch it in the Temporal UI: ${link}`,
      `steer it in the dashboard: ${dashboard}loops/${workflowId}`,
    ]);
    const progress = err.filter((l) => l.startsWith(`${workflowId} `));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.filter((l) => !PROGRESS.test(l))).toEqual([]);

    const lines = res.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('session '));
    expect(lines.slice(header, header + 2)).toEqual([
      'session  decision  psnr     best',
      '-------  --------  ----     ----',
    ]);
    expect(
      lines.slice(header + 2, header + 5).map((l, i) => (ROW(String(i).padStart(3, '0')).test(l) ? 'row' : l)),
    ).toEqual(['row', 'row', 'row']);
    expect(lines[header + 2]).toMatch(/^000 +baseline /);
    expect(lines.slice(header + 5)).toEqual([
      '',
      expect.stringMatching(
        /^ended: budget_sessions after 2 sessions; best psnr \d+(\.\d+)? at session 00\d \(\+\d+\.\d\d over the baseline\)$/,
      ),
      'report: out/loop_station/report.html',
      'files:  out/loop_station/',
      `UI:     ${link}`,
      '',
    ]);
    expect((await stat(join(cwd, 'out/loop_station/report.html'))).size).toBeGreaterThan(10_000);
  });

  test('with a loop-station dev running on the folder: its UI link, or plainly unknown, and --keep-running said to have no effect', async () => {
    const cwd = await testdir({}, 'loop-station-demo-dev-');
    const devPort = await freeDevPort();
    const dev = spawn(process.execPath, [BIN, 'dev', '--port', String(devPort)], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => dev.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        dev.stdout.on('data', (chunk: Buffer) => {
          seen += String(chunk);
          if (seen.includes('Temporal UI:')) resolve();
        });
        void exited.then((code) => reject(new Error(`loop-station dev exited (${code}) before it was ready`)));
      });
      const noEffect = `--keep-running has no effect: the server at 127.0.0.1:${devPort} is not ours (a running loop-station dev); it stays up after the demo anyway`;
      const args = async (dir: string) => {
        const [port, uiPort] = await findFreePorts(2);
        return ['--sessions', '1', '--dir', dir, '--keep-running', '--port', String(port), '--ui-port', String(uiPort)];
      };
      const linked = await demo(cwd, await args('one'));
      const err = linked.stderr.trimEnd().split('\n');
      const workflowId = new RegExp(`^started (${ID}): 1 sessions$`).exec(
        err.find((l) => l.startsWith('started '))!,
      )![1]!;
      const link = `http://127.0.0.1:${devPort + 1000}/namespaces/default/workflows/${workflowId}`;
      expect(linked.code).toBe(0);
      expect(err.filter((l) => /^(using|watch it|the UI address|--keep-running)/.test(l))).toEqual([
        `using the running loop-station dev at 127.0.0.1:${devPort}`,
        `watch it in the Temporal UI: ${link}`,
        noEffect,
      ]);
      expect(linked.stdout.trimEnd().split('\n').at(-1)).toBe(`UI:     ${link}`);

      // A UI somewhere else (LOOP_STATION_UI_URL points where nothing answers): no link, said plainly.
      const unknown = await demo(cwd, await args('two'), { LOOP_STATION_UI_URL: 'http://127.0.0.1:1' });
      expect(unknown.code).toBe(0);
      expect(
        unknown.stderr
          .trimEnd()
          .split('\n')
          .filter((l) => /^(using|watch it|the UI address|--keep-running)/.test(l)),
      ).toEqual([
        `using the running loop-station dev at 127.0.0.1:${devPort}`,
        'the UI address of that server is unknown: nothing answers at http://127.0.0.1:1 (LOOP_STATION_UI_URL)',
        noEffect,
      ]);
      expect(unknown.stdout.trimEnd().split('\n').at(-1)).toBe('files:  two/loop_station/');
    } finally {
      dev.kill('SIGTERM');
      await exited;
    }
  });
});
