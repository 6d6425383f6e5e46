import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../server/dev-server.js';
import { figureOf, round, scalarOf, summarize } from '../lib/stats.js';
import type { LocalBenchmark } from './benchmark.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Wall time of one run of `file args` to its exit, in ms; stdout and stderr discarded. */
function timed(file: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
    child.once('error', reject);
    child.once('exit', () => resolve(performance.now() - started));
  });
}

/**
 * The package as installed: bin/ with dist/ and node_modules beside it, no TypeScript sources, so
 * bin/loop-station.mjs takes the compiled path exactly as after `npm i loop-station`.
 */
async function installedLayout(): Promise<{ dir: string; bin: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'loop-station-startup-'));
  await mkdir(join(dir, 'bin'));
  await copyFile(join(REPO, 'bin/loop-station.mjs'), join(dir, 'bin/loop-station.mjs'));
  await copyFile(join(REPO, 'package.json'), join(dir, 'package.json'));
  await symlink(join(REPO, 'dist'), join(dir, 'dist'));
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return { dir, bin: join(dir, 'bin/loop-station.mjs') };
}

/**
 * `loop-station --help` and `--version` as a user starts them (the compiled package), against
 * `temporal --help` in the same run, plus how long a refused connection takes to be reported.
 * The commands take turns, so a change in the machine's load falls on all of them alike.
 */
export const startup: LocalBenchmark = {
  title: 'CLI start: loop-station --help / --version (compiled package) vs temporal --help; a refused connection',
  local: true,
  run: async ({ binary, log }, { quick }) => {
    const repeats = quick ? 5 : 10;
    log('building dist/ (npm run build)');
    const built = await timed(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/build.ts')]);
    log(`built in ${round(built / 1000)} s`);
    const installed = await installedLayout();
    const closed = await findFreePort();
    const commands: Record<string, { label: string; file: string; args: string[] }> = {
      help: {
        label: 'loop-station --help (compiled package)',
        file: process.execPath,
        args: [installed.bin, '--help'],
      },
      version: {
        label: 'loop-station --version (compiled package)',
        file: process.execPath,
        args: [installed.bin, '--version'],
      },
      temporal: { label: 'temporal --help (Go binary)', file: binary, args: ['--help'] },
      node: { label: 'node -e 0 (Node start alone)', file: process.execPath, args: ['-e', '0'] },
      checkout: {
        label: 'loop-station --help in a checkout (bin/loop-station.mjs, its compiled tree found)',
        file: process.execPath,
        args: [join(REPO, 'bin/loop-station.mjs'), '--help'],
      },
      refused: {
        label: 'loop-station status x at a closed port: exit 3 "connection refused"',
        file: process.execPath,
        args: [installed.bin, 'status', 'x', '--address', `127.0.0.1:${closed}`],
      },
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
    const loads: number[] = [];
    try {
      for (const c of Object.values(commands)) await timed(c.file, c.args); // warm the file cache
      for (let i = 0; i < repeats; i++) {
        loads.push(loadavg()[0]!);
        for (const [key, c] of Object.entries(commands)) samples[key]!.push(await timed(c.file, c.args));
      }
    } finally {
      await rm(installed.dir, { recursive: true, force: true });
    }
    const median = (key: string) => summarize(samples[key]!).median;
    const figures = Object.entries(commands).map(([key, c]) => figureOf(key, c.label, 'ms', samples[key]!));
    figures.push(
      scalarOf(
        'vsTemporal',
        'loop-station --help / temporal --help (medians)',
        '×',
        median('help') / median('temporal'),
      ),
    );
    figures.push(
      scalarOf(
        'overNode',
        'loop-station --help minus Node start alone (medians)',
        'ms',
        median('help') - median('node'),
      ),
    );
    const met = (key: string, limit: number) => ({ measured: `${round(median(key))} ms`, met: median(key) < limit });
    return {
      params: { repeats, order: 'round robin, one warm-up run each', build: `${round(built / 1000)} s` },
      figures,
      targets: [
        { label: 'loop-station --help, median', target: '< 200 ms', ...met('help', 200) },
        { label: 'loop-station --version, median', target: '< 200 ms', ...met('version', 200) },
        { label: 'a refused connection reported, median', target: '< 1 s', ...met('refused', 1000) },
      ],
      notes: [
        `Load average (1 min) during the runs: ${round(Math.min(...loads), 2)}–${round(Math.max(...loads), 2)}.`,
        'The compiled package loads commander and the command declarations only; each command loads its implementation ' +
          "(and the Temporal SDK) when it runs. A checkout's bin/loop-station.mjs runs the tree it compiled from its sources (scripts/checkout-cli.mjs), after hashing them.",
      ],
    };
  },
};
