import { access, constants, mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { type BinaryAttempt, BinarySource, TemporalBinaryNotFoundError } from './errors.js';
import { type Downloader, type DownloadWatch, downloadWithSdk, watchedDownload } from './sdk-download.js';
import { buildTemporalBinary } from './temporal-build.js';
import { runCommand } from './temporal-cli.js';

/** The pinned Temporal CLI (Server 1.29.1, UI 2.42.1): the newest tag `go install` accepts. */
export const TEMPORAL_CLI_VERSION = '1.5.1';

/** Environment variable naming a Temporal CLI binary to use as is. */
export const TEMPORAL_BIN_ENV = 'LOOP_STATION_TEMPORAL_BIN';

export interface EnsureTemporalBinaryOptions {
  /** The environment to read (PATH, HOME, XDG_CACHE_HOME, LOOP_STATION_TEMPORAL_BIN) and to run go with. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines, e.g. during the build. */
  readonly log?: (line: string) => void;
  /** Let the Temporal SDK download the pinned CLI when nothing local is found. @default true */
  readonly allowDownload?: boolean;
  /** Build with `go install` when the download fails too. @default true */
  readonly allowBuild?: boolean;
  /** The download; tests pass a fake. @default the Temporal SDK's (downloadWithSdk) */
  readonly download?: Downloader;
  /** When the download counts as offline or stalled. */
  readonly downloadWatch?: DownloadWatch;
  /** The loop-station cache; the binary lives in `<cacheDir>/temporal-<version>/temporal`. @default `${XDG_CACHE_HOME:-~/.cache}/loop-station` */
  readonly cacheDir?: string;
}

export interface TemporalBinary {
  readonly path: string;
  readonly version: string;
  readonly source: BinarySource;
}

/**
 * Finds a Temporal CLI, in order: LOOP_STATION_TEMPORAL_BIN, `temporal` on PATH (if not older than
 * the pinned version), the cache, the SDK's download of the pinned CLI into the cache (seconds where
 * there is internet; given up within seconds where there is none), a `go install` build into the
 * cache (minutes). Throws TemporalBinaryNotFoundError listing every attempt when none works.
 */
export async function ensureTemporalBinary(options: EnsureTemporalBinaryOptions = {}): Promise<TemporalBinary> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const version = TEMPORAL_CLI_VERSION;
  const attempts: BinaryAttempt[] = [];

  const fromEnv = env[TEMPORAL_BIN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const probe = await probeVersion(fromEnv, env);
    if ('version' in probe) return { path: fromEnv, version: probe.version, source: BinarySource.env };
    // An explicit choice that does not work is a mistake to report, not a reason to pick another binary.
    throw new TemporalBinaryNotFoundError(version, [
      { source: BinarySource.env, target: fromEnv, reason: `${probe.reason}; fix or unset ${TEMPORAL_BIN_ENV}` },
    ]);
  }
  attempts.push({ source: BinarySource.env, target: TEMPORAL_BIN_ENV, reason: 'not set' });

  const onPath = await findOnPath('temporal', env);
  for (const candidate of onPath) {
    const probe = await probeVersion(candidate, env);
    if ('reason' in probe) attempts.push({ source: BinarySource.path, target: candidate, reason: probe.reason });
    else if (compareVersions(probe.version, version) < 0)
      attempts.push({
        source: BinarySource.path,
        target: candidate,
        reason: `version ${probe.version} is older than ${version}`,
      });
    else return { path: candidate, version: probe.version, source: BinarySource.path };
  }
  if (onPath.length === 0) attempts.push({ source: BinarySource.path, target: 'temporal', reason: 'not on PATH' });

  const cacheRoot = options.cacheDir ?? defaultCacheDir(env);
  const targetDir = join(cacheRoot, `temporal-${version}`);
  const cached = join(targetDir, 'temporal');
  const cacheProblem = await pinnedVersionProblem(cached, env);
  if (cacheProblem === undefined) return { path: cached, version, source: BinarySource.cache };
  attempts.push({ source: BinarySource.cache, target: cached, reason: cacheProblem });

  const downloadTarget = `Temporal SDK download of the CLI ${version}`;
  if (options.allowDownload ?? true) {
    log(`downloading the Temporal CLI ${version} with the Temporal SDK…`);
    const downloadDir = join(cacheRoot, 'sdk-download');
    const downloaded = await watchedDownload(
      options.download ?? downloadWithSdk,
      version,
      downloadDir,
      options.downloadWatch,
    );
    const problem = 'path' in downloaded ? await pinnedVersionProblem(downloaded.path, env) : downloaded.reason;
    if ('path' in downloaded && problem === undefined) {
      await mkdir(targetDir, { recursive: true });
      await rename(downloaded.path, cached);
      return { path: cached, version, source: BinarySource.sdkDownload };
    }
    log(`the download did not work (${problem ?? 'unknown'}); building the CLI from source instead`);
    attempts.push({ source: BinarySource.sdkDownload, target: downloadTarget, reason: problem ?? 'unknown' });
  } else {
    attempts.push({
      source: BinarySource.sdkDownload,
      target: downloadTarget,
      reason: 'not allowed here (allowDownload: false)',
    });
  }

  const buildTarget = `go install github.com/temporalio/cli/cmd/temporal@v${version}`;
  if (options.allowBuild ?? true) {
    const built = await buildTemporalBinary({
      version,
      targetDir,
      env,
      log,
      verify: (p) => pinnedVersionProblem(p, env),
    });
    if ('path' in built)
      return { path: built.path, version, source: built.reused ? BinarySource.cache : BinarySource.build };
    attempts.push({ source: BinarySource.build, target: buildTarget, reason: built.reason });
  } else {
    attempts.push({ source: BinarySource.build, target: buildTarget, reason: 'not allowed here (allowBuild: false)' });
  }

  throw new TemporalBinaryNotFoundError(version, attempts);
}

/** `${XDG_CACHE_HOME:-$HOME/.cache}/loop-station`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'loop-station');
}

/** The version `<binary> --version` prints (`temporal version 1.5.1 (Server …)`), or undefined. */
export async function temporalVersionOf(binaryPath: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  const probe = await probeVersion(binaryPath, env ?? process.env);
  return 'version' in probe ? probe.version : undefined;
}

/** Compares dotted versions numerically; a pre-release (`1.5.1-rc.1`, `0.0.0-DEV`) sorts before its release. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const [coreA = '', preA] = splitPre(a);
  const [coreB = '', preB] = splitPre(b);
  const partsA = coreA.split('.').map(Number);
  const partsB = coreB.split('.').map(Number);
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const x = partsA[i] ?? 0;
    const y = partsB[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  if (preA === preB) return 0;
  if (preA === undefined) return 1;
  if (preB === undefined) return -1;
  return preA < preB ? -1 : 1;
}

function splitPre(version: string): [string, string | undefined] {
  const clean = version.replace(/^v/, '');
  const dash = clean.indexOf('-');
  return dash === -1 ? [clean, undefined] : [clean.slice(0, dash), clean.slice(dash + 1)];
}

const VERSION_LINE = /^temporal version (\d+\.\d+\.\d+(?:-[\w.]+)?)/m;

async function probeVersion(
  binaryPath: string,
  env: NodeJS.ProcessEnv,
): Promise<{ version: string } | { reason: string }> {
  const exists = await access(binaryPath, constants.X_OK).then(
    () => undefined,
    (error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? 'does not exist' : `is not executable (${error.code})`,
  );
  if (exists !== undefined) return { reason: exists };
  const result = await runCommand(binaryPath, ['--version'], { env, timeoutMs: 15_000 });
  if (result.exitCode !== 0) {
    const detail = result.failure ?? `exit code ${String(result.exitCode)}`;
    const said = (result.stderr.trim() || result.stdout.trim()).split('\n')[0];
    return { reason: `\`--version\` failed (${detail})${said ? `: ${said}` : ''}` };
  }
  const match = VERSION_LINE.exec(result.stdout);
  if (match?.[1] === undefined)
    return {
      reason: `\`--version\` printed ${JSON.stringify(result.stdout.trim().slice(0, 80))}, not "temporal version X.Y.Z"`,
    };
  return { version: match[1] };
}

/** undefined when `binaryPath` runs and prints exactly the pinned version; else why not. */
async function pinnedVersionProblem(binaryPath: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const probe = await probeVersion(binaryPath, env);
  if ('reason' in probe) return probe.reason;
  return probe.version === TEMPORAL_CLI_VERSION
    ? undefined
    : `version ${probe.version}, expected ${TEMPORAL_CLI_VERSION}`;
}

/** Every executable `name` along PATH, in PATH order, without duplicates. */
async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const found: string[] = [];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = resolve(dir, name);
    if (found.includes(candidate)) continue;
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      found.push(candidate);
  }
  return found;
}
