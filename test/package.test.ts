import { type ChildProcess, spawn } from 'node:child_process';
import { access, appendFile, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { run } from './helpers/cli.js';
import { node, toyRoot } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';

/**
 * loop-station as a user installs it: `npm pack`, the tarball installed into a project folder that
 * is not the repository, every loop-station cache empty (a Temporal binary given by
 * LOOP_STATION_TEMPORAL_BIN), then a two-session loop run from there: the package's own worker
 * against the test server, `submit`, an `approve` the loop waits for, `watch`, `validate`, `report`,
 * and the commands around them.
 */

const REPO = fileURLToPath(new URL('..', import.meta.url));
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

describe('the packed package, installed next to a project', () => {
  const cleanup: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('packs what runs, installs without tsx, and runs a loop end to end from the install', async () => {
    // npm pack runs prepack (npm run build): dist/ and the prebuilt workflow bundle.
    const out = await testdir({}, 'loop-station-pack-');
    cleanup.push(out);
    const packed = await run('npm', ['pack', '--json', '--pack-destination', out], { cwd: REPO, timeoutMs: 300_000 });
    expect(packed.code, packed.stderr).toBe(0);
    const [pack] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as PackResult[];
    const files = pack!.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/loop-station.mjs',
        'dist/cli/main.js',
        'dist/workflow-bundle.js',
        'dist/workflow-bundle.json',
      ]),
    );
    expect(files).toEqual(
      expect.arrayContaining([
        'skills/loop-station/SKILL.md',
        'examples/denoise-psnr/setup.mjs',
        // The docs cite its figures (test/unit/doc-links.test.ts checks every shipped page's links).
        'docs/performance.md',
        'BENCH.md',
      ]),
    );
    expect(files.filter((f) => /(^|\/)test\/|\.test\.|^bench\/|\.ts$/.test(f) && !f.endsWith('.d.mts'))).toEqual([]);
    expect(pack!.size).toBeLessThan(3 * 1024 * 1024);

    // A user's project, and a HOME whose caches are empty.
    const project = await testdir(
      { 'package.json': JSON.stringify({ name: 'my-research', private: true }) },
      'loop-station-user-',
    );
    const home = await testdir({}, 'loop-station-home-');
    cleanup.push(project, home);
    const npmCache = (await run('npm', ['config', 'get', 'cache'])).stdout.trim();
    const install = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', join(out, pack!.filename)],
      {
        cwd: project,
        env: { npm_config_cache: npmCache },
        timeoutMs: 300_000,
      },
    );
    expect(install.code, install.stderr).toBe(0);
    // Nothing compiles TypeScript at run time: tsx is not even installed.
    expect(await exists(join(project, 'node_modules/tsx'))).toBe(false);
    expect(await exists(join(project, 'node_modules/loop-station/cli'))).toBe(false);

    const env = {
      HOME: home,
      XDG_CACHE_HOME: '',
      XDG_CONFIG_HOME: '',
      TEMPORAL_ADDRESS: '',
      LOOP_STATION_TEMPORAL_BIN: inject('temporalBinary'),
    };
    const bin = join(project, 'node_modules/.bin/loop-station');
    const cli = (args: string[], cwd = project) => run(bin, args, { cwd, env });
    const address = ['--address', inject('temporalAddress')];

    const help = await cli(['--help']);
    expect([help.code, help.stdout.split('\n')[0]]).toEqual([0, 'Usage: loop-station [options] [command]']);
    expect((await cli(['--version'])).stdout.trim()).toBe(
      (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version,
    );
    const ensure = await cli(['server', 'ensure', '--json']);
    expect([ensure.code, (JSON.parse(ensure.stdout) as { source: string }).source]).toEqual([0, 'env']);
    const skill = await cli(['skill', 'install', '--for', 'claude', '--scope', 'project', '--dry-run', '--json']);
    expect([skill.code, (JSON.parse(skill.stdout) as { files: string[] }).files]).toEqual([
      0,
      expect.arrayContaining(['SKILL.md']),
    ]);

    // The loop: a spec from init, the toy problem in a root of the project, a worker of the package.
    const root = await toyRoot();
    cleanup.push(root);
    const queue = `package-${process.pid}-${Date.now()}`;
    const name = `pkg-${process.pid}-${Date.now()}`;
    const spec = join(root, 'loop.yaml');
    const init = await cli([
      'init',
      spec,
      '--name',
      name,
      '--goal',
      'raise x',
      '--evidence',
      `${JSON.stringify(process.execPath)} eval.mjs`,
      '--metric',
      'score',
      '--sessions',
      '2',
      '--executor',
      node('toy-executor.mjs'),
      '--reviewer',
      node('toy-reviewer.mjs'),
      '--workspace',
      'work/**',
      '--protected',
      'eval.mjs',
    ]);
    expect(init.code, init.stderr).toBe(0);
    // Session 1's promote waits for `approve`: a message the installed worker must take.
    await appendFile(spec, `taskQueue: ${queue}\naskBefore: [promote]\n`);

    const worker = spawn(bin, ['worker', ...address, '--task-queue', queue, '--allow-root', root], {
      cwd: project,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(worker);
    let workerLog = '';
    worker.stderr!.on('data', (d) => (workerLog += String(d)));
    const ready = await cli(['server', 'status', ...address, '--task-queue', queue, '--wait', '60s']);
    expect(ready.code, `${ready.stderr}\n${workerLog}`).toBe(0);

    const submitted = await cli(['submit', spec, ...address, '--json']);
    expect(submitted.code, `${submitted.stderr}\n${workerLog}`).toBe(0);
    // The messages' schemas load lazily inside the workflow bundle: the package's prebuilt bundle,
    // made from compiled ES modules, once failed there with "require is not defined".
    let pending: string | undefined;
    for (let i = 0; i < 150 && pending !== 'approval'; i++) {
      const status = await cli(['status', name, ...address, '--json']);
      expect(status.code, `${status.stderr}\n${workerLog}`).toBe(0);
      pending = (JSON.parse(status.stdout) as { pending: { kind: string } | null }).pending?.kind;
      if (pending !== 'approval') await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(pending, workerLog).toBe('approval');
    const approved = await cli(['approve', name, ...address, '--session', '1']);
    expect(approved.code, `${approved.stderr}\n${workerLog}`).toBe(0);
    const watched = await cli(['watch', name, ...address, '--json']);
    expect(watched.code, `${watched.stderr}\n${workerLog}`).toBe(0);
    const result = JSON.parse(watched.stdout) as { stopReason: string; sessions: number };
    expect([result.stopReason, result.sessions]).toEqual(['budget_sessions', 2]);

    const validated = await cli(['validate', root, '--json']);
    expect([validated.code, (JSON.parse(validated.stdout) as { ok: boolean }).ok]).toEqual([0, true]);
    const report = await cli(['report', root]);
    expect([report.code, report.stdout.trim()]).toEqual([0, join(root, 'loop_station/report.html')]);
    expect((await stat(join(root, 'loop_station/report.html'))).size).toBeGreaterThan(5_000);

    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    // The worker ran the package's prebuilt workflow bundle: nothing was bundled into the cache.
    expect(await readdir(join(home, '.cache/loop-station')).catch(() => [])).not.toContain('bundles');
  }, 600_000);
});
