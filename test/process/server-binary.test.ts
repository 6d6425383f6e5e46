import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, test } from 'vitest';
import { TemporalBinaryNotFoundError } from '../../server/errors.js';
import type { Downloader, DownloadResult } from '../../server/sdk-download.js';
import { compareVersions, ensureTemporalBinary, temporalVersionOf } from '../../server/temporal-binary.js';

const FAKES = join(import.meta.dirname, '../fixtures/fake-temporal');

let root: string;
/** A controlled world: PATH, HOME and the cache are temp folders, so no real `temporal` or `go` is seen. */
let env: NodeJS.ProcessEnv;
let cacheDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ls-binary-'));
  cacheDir = join(root, 'cache');
  env = { HOME: join(root, 'home'), PATH: '' };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Puts fake `name` (a fixture) into a fresh folder under root and returns that folder. */
async function binDir(label: string, fixture: string, name = 'temporal'): Promise<string> {
  const dir = join(root, label);
  await mkdir(dir, { recursive: true });
  await copyFile(join(FAKES, fixture), join(dir, name));
  return dir;
}

async function putInCache(fixture: string): Promise<string> {
  const dir = join(cacheDir, 'temporal-1.5.1');
  await mkdir(dir, { recursive: true });
  await copyFile(join(FAKES, fixture), join(dir, 'temporal'));
  return join(dir, 'temporal');
}

const offline = { allowBuild: false, allowDownload: false } as const;

/** The error's attempts with root replaced, for exact comparison. */
async function attemptsOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => expect.unreachable('expected TemporalBinaryNotFoundError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TemporalBinaryNotFoundError);
  const { attempts, message } = error as TemporalBinaryNotFoundError;
  const clean = (s: string) => s.replaceAll(root, '<tmp>');
  return { attempts: attempts.map((a) => ({ ...a, target: clean(a.target) })), message: clean(message) };
}

describe('ensureTemporalBinary', () => {
  it('takes LOOP_STATION_TEMPORAL_BIN first, whatever its version, over PATH and the cache', async () => {
    const pinned = await binDir('on-path', 'temporal-1.6.0');
    await putInCache('temporal-1.5.1');
    const chosen = join(await binDir('chosen', 'temporal-1.4.0'), 'temporal');
    const found = await ensureTemporalBinary({
      ...offline,
      cacheDir,
      env: { ...env, PATH: pinned, LOOP_STATION_TEMPORAL_BIN: chosen },
    });
    expect(found).toEqual({ path: chosen, version: '1.4.0', source: 'env' });
  });

  it('stops at a LOOP_STATION_TEMPORAL_BIN that does not run instead of picking another binary', async () => {
    await putInCache('temporal-1.5.1');
    const broken = join(await binDir('broken', 'temporal-broken'), 'temporal');
    const { attempts } = await attemptsOf(
      ensureTemporalBinary({ ...offline, cacheDir, env: { ...env, LOOP_STATION_TEMPORAL_BIN: broken } }),
    );
    expect(attempts).toEqual([
      {
        source: 'env',
        target: '<tmp>/broken/temporal',
        reason: '`--version` failed (exit code 3): exec format error; fix or unset LOOP_STATION_TEMPORAL_BIN',
      },
    ]);
  });

  it('rejects an older `temporal` on PATH and takes a newer one further along PATH', async () => {
    const old = await binDir('old', 'temporal-1.4.0');
    const newer = await binDir('newer', 'temporal-1.6.0');
    const found = await ensureTemporalBinary({ ...offline, cacheDir, env: { ...env, PATH: `${old}:${newer}` } });
    expect(found).toEqual({ path: join(newer, 'temporal'), version: '1.6.0', source: 'path' });
  });

  it('falls back to the cache when PATH only has an older CLI', async () => {
    const old = await binDir('old', 'temporal-1.4.0');
    const cached = await putInCache('temporal-1.5.1');
    const found = await ensureTemporalBinary({ ...offline, cacheDir, env: { ...env, PATH: old } });
    expect(found).toEqual({ path: cached, version: '1.5.1', source: 'cache' });
  });

  it('derives the default cache from XDG_CACHE_HOME', async () => {
    cacheDir = join(root, 'xdg', 'loop-station');
    const cached = await putInCache('temporal-1.5.1');
    const found = await ensureTemporalBinary({ ...offline, env: { ...env, XDG_CACHE_HOME: join(root, 'xdg') } });
    expect(found).toEqual({ path: cached, version: '1.5.1', source: 'cache' });
  });

  it('lists every attempt with its reason, and the fixes, when nothing is usable', async () => {
    const old = await binDir('old', 'temporal-1.4.0');
    const broken = await binDir('broken', 'temporal-broken');
    await putInCache('temporal-1.4.0');
    const { attempts, message } = await attemptsOf(
      ensureTemporalBinary({ ...offline, cacheDir, env: { ...env, PATH: `${old}:${broken}` } }),
    );
    expect(attempts).toEqual([
      { source: 'env', target: 'LOOP_STATION_TEMPORAL_BIN', reason: 'not set' },
      { source: 'path', target: '<tmp>/old/temporal', reason: 'version 1.4.0 is older than 1.5.1' },
      {
        source: 'path',
        target: '<tmp>/broken/temporal',
        reason: '`--version` failed (exit code 3): exec format error',
      },
      { source: 'cache', target: '<tmp>/cache/temporal-1.5.1/temporal', reason: 'version 1.4.0, expected 1.5.1' },
      {
        source: 'sdk-download',
        target: 'Temporal SDK download of the CLI 1.5.1',
        reason: 'not allowed here (allowDownload: false)',
      },
      {
        source: 'build',
        target: 'go install github.com/temporalio/cli/cmd/temporal@v1.5.1',
        reason: 'not allowed here (allowBuild: false)',
      },
    ]);
    expect(message).toMatchInlineSnapshot(`
      "no usable Temporal CLI 1.5.1 found; tried:
        - env (LOOP_STATION_TEMPORAL_BIN): not set
        - path (<tmp>/old/temporal): version 1.4.0 is older than 1.5.1
        - path (<tmp>/broken/temporal): \`--version\` failed (exit code 3): exec format error
        - cache (<tmp>/cache/temporal-1.5.1/temporal): version 1.4.0, expected 1.5.1
        - sdk-download (Temporal SDK download of the CLI 1.5.1): not allowed here (allowDownload: false)
        - build (go install github.com/temporalio/cli/cmd/temporal@v1.5.1): not allowed here (allowBuild: false)
      fix: one of
        - set LOOP_STATION_TEMPORAL_BIN=/path/to/temporal (a Temporal CLI 1.5.1 or newer)
        - run the command again where the SDK download can reach the internet
        - install Go 1.25 or newer (\`go version\`), then run the command again: it builds the CLI once (~3 min)
        - skip the local server and point at an existing cluster with \`--address host:7233\`"
    `);
  });

  it('reports an empty PATH and a missing cache', async () => {
    const { attempts } = await attemptsOf(ensureTemporalBinary({ ...offline, cacheDir, env }));
    expect(attempts.slice(1, 3)).toEqual([
      { source: 'path', target: 'temporal', reason: 'not on PATH' },
      { source: 'cache', target: '<tmp>/cache/temporal-1.5.1/temporal', reason: 'does not exist' },
    ]);
  });
});

describe('ensureTemporalBinary with a build (a fake `go`)', () => {
  it("builds into the cache once when two callers race, the second reusing the first one's binary", async () => {
    const goDir = await binDir('go', 'go-ok', 'go');
    const goLog = join(root, 'go.log');
    const buildEnv = { ...env, PATH: goDir, FAKE_GO_LOG: goLog };
    // Either caller may win the build lock, so each has its own log and the builder's is checked.
    const logs: [string[], string[]] = [[], []];
    const ensure = (lines: string[]) =>
      ensureTemporalBinary({ allowDownload: false, cacheDir, env: buildEnv, log: (l) => lines.push(l) });
    const [a, b] = await Promise.all([ensure(logs[0]), ensure(logs[1])]);
    const cached = join(cacheDir, 'temporal-1.5.1', 'temporal');
    expect([a.source, b.source].sort()).toEqual(['build', 'cache']);
    expect([a.path, b.path]).toEqual([cached, cached]);
    expect(await temporalVersionOf(cached)).toBe('1.5.1');
    expect((await readFile(goLog, 'utf8')).trim().split('\n')).toEqual([
      'install -trimpath -ldflags -s -w -X github.com/temporalio/cli/temporalcli.Version=1.5.1 github.com/temporalio/cli/cmd/temporal@v1.5.1 CGO_ENABLED=0',
    ]);
    const builderLog = a.source === 'build' ? logs[0] : logs[1];
    expect(builderLog).toContain('go: downloading github.com/temporalio/cli v1.5.1');
  });

  it("reports a failed build with go's last words and leaves no half-built binary", async () => {
    const goDir = await binDir('go', 'go-fail', 'go');
    const { attempts } = await attemptsOf(
      ensureTemporalBinary({ allowDownload: false, cacheDir, env: { ...env, PATH: goDir } }),
    );
    expect(attempts[4]).toEqual({
      source: 'build',
      target: 'go install github.com/temporalio/cli/cmd/temporal@v1.5.1',
      reason:
        '`go install` failed (exit code 1): go: github.com/temporalio/cli/cmd/temporal@v1.5.1: module lookup disabled by GOPROXY=off',
    });
    expect(await temporalVersionOf(join(cacheDir, 'temporal-1.5.1', 'temporal'))).toBeUndefined();
  });

  it('says so when go is not on PATH', async () => {
    const { attempts } = await attemptsOf(ensureTemporalBinary({ allowDownload: false, cacheDir, env }));
    expect(attempts[4]?.reason).toBe('`go` is not on PATH');
  });
});

describe('ensureTemporalBinary with the SDK download (a fake downloader)', () => {
  /** A downloader that records its call and then does `behave`. */
  const fake =
    (calls: string[], behave: (dir: string) => Promise<DownloadResult>): Downloader =>
    async (version, dir) => {
      calls.push(`download ${version}`);
      return behave(dir);
    };
  const delivers = async (dir: string): Promise<DownloadResult> => {
    await mkdir(dir, { recursive: true });
    await copyFile(join(FAKES, 'temporal-1.5.1'), join(dir, 'temporal-v1.5.1'));
    return { path: join(dir, 'temporal-v1.5.1') };
  };

  it('downloads after the cache and before any build: go is never run when the download works', async () => {
    const goDir = await binDir('go', 'go-ok', 'go');
    const goLog = join(root, 'go.log');
    const calls: string[] = [];
    const found = await ensureTemporalBinary({
      cacheDir,
      env: { ...env, PATH: goDir, FAKE_GO_LOG: goLog },
      download: fake(calls, delivers),
    });
    const cached = join(cacheDir, 'temporal-1.5.1', 'temporal');
    expect([found, calls]).toEqual([{ path: cached, version: '1.5.1', source: 'sdk-download' }, ['download 1.5.1']]);
    expect(await readFile(goLog, 'utf8').catch(() => 'not run')).toBe('not run');
    // The next lookup finds it in the cache without downloading again.
    const again = await ensureTemporalBinary({ cacheDir, env, download: fake(calls, delivers), allowBuild: false });
    expect([again.source, calls.length]).toEqual(['cache', 1]);
  });

  it('falls through to the build when the download fails, and lists both attempts when the build fails too', async () => {
    const goDir = await binDir('go', 'go-fail', 'go');
    const calls: string[] = [];
    const failing = fake(calls, async () => ({
      reason: 'the SDK download failed: dns error: Name or service not known',
    }));
    const { attempts } = await attemptsOf(
      ensureTemporalBinary({ cacheDir, env: { ...env, PATH: goDir }, download: failing }),
    );
    expect(attempts.slice(3).map((a) => [a.source, a.reason.split(':')[0]])).toEqual([
      ['sdk-download', 'the SDK download failed'],
      ['build', '`go install` failed (exit code 1)'],
    ]);
    expect(calls).toEqual(['download 1.5.1']);
  });

  it('gives up on a download where nothing arrives (offline) within the first-byte limit, then builds', async () => {
    const goDir = await binDir('go', 'go-ok', 'go');
    const calls: string[] = [];
    const hangs = fake(calls, () => new Promise<DownloadResult>(() => undefined));
    const logs: string[] = [];
    const found = await ensureTemporalBinary({
      cacheDir,
      env: { ...env, PATH: goDir, FAKE_GO_LOG: join(root, 'go.log') },
      download: hangs,
      downloadWatch: { firstByteMs: 300, pollMs: 50 },
      log: (line) => logs.push(line),
    });
    expect(found.source).toBe('build');
    expect(logs).toContain(
      'the download did not work (nothing arrived within 0.3 s (offline?)); building the CLI from source instead',
    );
  });

  it('gives up on a download that stalls after its first bytes', async () => {
    const calls: string[] = [];
    const stalls = fake(calls, async (dir) => {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'partial'), 'some bytes');
      return new Promise<DownloadResult>(() => undefined);
    });
    const { attempts } = await attemptsOf(
      ensureTemporalBinary({
        cacheDir,
        env,
        allowBuild: false,
        download: stalls,
        downloadWatch: { firstByteMs: 5_000, stallMs: 300, pollMs: 50 },
      }),
    );
    expect(attempts[3]).toEqual({
      source: 'sdk-download',
      target: 'Temporal SDK download of the CLI 1.5.1',
      reason: 'the download stalled: no new bytes for 0.3 s',
    });
  });

  it('refuses a downloaded binary of another version', async () => {
    const wrong = fake([], async (dir) => {
      await mkdir(dir, { recursive: true });
      await copyFile(join(FAKES, 'temporal-1.6.0'), join(dir, 'temporal-v1.5.1'));
      return { path: join(dir, 'temporal-v1.5.1') };
    });
    const { attempts } = await attemptsOf(ensureTemporalBinary({ cacheDir, env, allowBuild: false, download: wrong }));
    expect(attempts[3]?.reason).toBe('version 1.6.0, expected 1.5.1');
  });
});

describe('temporalVersionOf', () => {
  it('parses the version line and returns undefined for a binary that fails', async () => {
    expect(await temporalVersionOf(join(FAKES, 'temporal-1.6.0'))).toBe('1.6.0');
    expect(await temporalVersionOf(join(FAKES, 'temporal-broken'))).toBeUndefined();
    expect(await temporalVersionOf(join(FAKES, 'missing'))).toBeUndefined();
  });
});

test.for([
  ['1.5.1', '1.5.1', 0],
  ['1.5.1', '1.4.9', 1],
  ['1.5.0', '1.5.1', -1],
  ['1.10.0', '1.9.0', 1],
  ['1.5.1-rc.1', '1.5.1', -1],
  ['0.0.0-DEV', '1.5.1', -1],
  ['v1.6.0', '1.5.1', 1],
] as const)('compareVersions(%s, %s) is %i', ([a, b, expected]) => {
  expect(compareVersions(a, b)).toBe(expected);
});
