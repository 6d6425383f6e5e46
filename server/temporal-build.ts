import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { withFileLock } from './file-lock.js';

/** The CLI's module path; the `-X` flag stamps the version `--version` prints (else `0.0.0-DEV`). */
const CLI_MODULE = 'github.com/temporalio/cli';
const HEARTBEAT_MS = 30_000;
const BUILD_TIMEOUT_MS = 30 * 60_000;

export interface BuildOptions {
  readonly version: string;
  /** Where `temporal` ends up; the lock and the temporary build directory live here too. */
  readonly targetDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  /** Checks a finished binary (ours, or one another process built while we waited for the lock). */
  readonly verify: (binaryPath: string) => Promise<string | undefined>;
}

/** Built or reused: the binary path; failed: the reason, for the error's list of attempts. */
export type BuildResult = { readonly path: string; readonly reused: boolean } | { readonly reason: string };

/**
 * Builds the Temporal CLI with `go install` into `targetDir`, once: concurrent callers wait on a
 * lock file and reuse the result. Builds into a temporary directory and renames, so a half-built
 * binary is never taken.
 */
export async function buildTemporalBinary(options: BuildOptions): Promise<BuildResult> {
  const { targetDir, log } = options;
  const target = join(targetDir, 'temporal');
  await mkdir(targetDir, { recursive: true });
  return withFileLock(
    join(targetDir, '.build.lock'),
    async (): Promise<BuildResult> => {
      if ((await options.verify(target)) === undefined) return { path: target, reused: true };
      const tempDir = await mkdtemp(join(targetDir, '.build-'));
      try {
        const failure = await runGoInstall(options, tempDir);
        if (failure !== undefined) return { reason: failure };
        const built = join(tempDir, 'temporal');
        const problem = await options.verify(built);
        if (problem !== undefined) return { reason: `the build finished but the binary is unusable: ${problem}` };
        await rename(built, target);
        return { path: target, reused: false };
      } finally {
        await rm(tempDir, { recursive: true, force: true });
      }
    },
    {
      onWait: (holder, waitedMs) =>
        log(`waiting for process ${holder.pid} to finish building the Temporal CLI… ${Math.round(waitedMs / 1000)}s`),
    },
  );
}

/** Runs `go install`, streaming its stderr to `log` with a heartbeat; undefined on success. */
async function runGoInstall(options: BuildOptions, gobin: string): Promise<string | undefined> {
  const { version, log } = options;
  const args = [
    'install',
    '-trimpath',
    '-ldflags',
    `-s -w -X ${CLI_MODULE}/temporalcli.Version=${version}`,
    `${CLI_MODULE}/cmd/temporal@v${version}`,
  ];
  const shown = args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ');
  log(`building the Temporal CLI ${version} with \`go ${shown}\` (once; about 3 min on 2 cores)`);
  const started = Date.now();
  const heartbeat = setInterval(
    () => log(`still building the Temporal CLI… ${Math.round((Date.now() - started) / 1000)}s`),
    HEARTBEAT_MS,
  );
  const tail: string[] = [];
  try {
    const child = execa('go', args, {
      env: { ...options.env, GOBIN: gobin, CGO_ENABLED: '0' },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      buffer: false,
      timeout: BUILD_TIMEOUT_MS,
    });
    const lines = child.stderr === null ? undefined : createInterface({ input: child.stderr });
    lines?.on('line', (line) => {
      log(`go: ${line.replace(/^go: /, '')}`);
      tail.push(line);
      if (tail.length > 15) tail.shift();
    });
    const result = await child;
    if (result.exitCode === 0) {
      log(`built the Temporal CLI ${version} in ${Math.round((Date.now() - started) / 1000)}s`);
      return undefined;
    }
    if (result.code === 'ENOENT') return '`go` is not on PATH';
    if (result.timedOut) return `\`go install\` did not finish within ${BUILD_TIMEOUT_MS / 60_000} min`;
    return (
      `\`go install\` failed (exit code ${String(result.exitCode)})` + (tail.length > 0 ? `: ${tail.join(' | ')}` : '')
    );
  } finally {
    clearInterval(heartbeat);
  }
}
