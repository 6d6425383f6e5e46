import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENT_CLIS, type AgentCliName } from '../../activities/agents/cli-versions.js';
import { withFileLock } from '../../server/file-lock.js';
import { defaultCacheDir } from '../../server/temporal-binary.js';

/**
 * The pinned agent CLIs for tests and CI, installed once per machine into
 * `~/.cache/loop-station/agent-clis/<name>-<version>/` with npm, never as dependencies of the project
 * (together about 800 MB, which every `npm ci` would pay). Concurrent test files wait on a lock and
 * reuse the result; `LOOP_STATION_CODEX_BIN` / `LOOP_STATION_CLAUDE_BIN` name a binary to use instead.
 */

export interface AgentCliBinary {
  readonly name: AgentCliName;
  readonly version: string;
  readonly path: string;
  /** `installed` this call, `cached` from an earlier install, or `env` from the override variable. */
  readonly source: 'installed' | 'cached' | 'env';
  readonly durationMs: number;
}

const agentCliEnvVariable = (name: AgentCliName): string => `LOOP_STATION_${name.toUpperCase()}_BIN`;

/** undefined when `<path> --version` prints the pinned version, else what is wrong. */
async function versionProblem(path: string, name: AgentCliName): Promise<string | undefined> {
  const probe = await execa(path, ['--version'], { reject: false, stdin: 'ignore', timeout: 30_000 });
  if (probe.exitCode !== 0)
    return `\`${path} --version\` failed (exit ${String(probe.exitCode)}): ${String(probe.stderr).slice(0, 300)}`;
  return String(probe.stdout).includes(AGENT_CLIS[name].version)
    ? undefined
    : `\`${path} --version\` printed ${String(probe.stdout).trim()}, not ${AGENT_CLIS[name].version}`;
}

async function npmInstall(prefix: string, spec: string, log: (line: string) => void): Promise<void> {
  log(`npm install ${spec} into ${prefix}`);
  const result = await execa(
    'npm',
    ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', spec],
    { reject: false, stdin: 'ignore', timeout: 15 * 60_000 },
  );
  if (result.exitCode !== 0)
    throw new Error(
      `npm install ${spec} failed (exit ${String(result.exitCode)}): ${String(result.stderr).slice(-2000)}`,
    );
}

export async function ensureAgentCli(
  name: AgentCliName,
  options: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<AgentCliBinary> {
  const started = Date.now();
  const { package: pkg, version, bin } = AGENT_CLIS[name];
  const log = options.log ?? ((line: string) => process.stderr.write(`[agent-clis] ${line}\n`));
  const done = (path: string, source: AgentCliBinary['source']): AgentCliBinary => ({
    name,
    version,
    path,
    source,
    durationMs: Date.now() - started,
  });

  const override = process.env[agentCliEnvVariable(name)];
  if (override) {
    const problem = await versionProblem(override, name);
    if (problem !== undefined)
      throw new Error(`${agentCliEnvVariable(name)}: ${problem}; point it at ${pkg}@${version} or unset it`);
    return done(override, 'env');
  }

  const root = join(options.cacheDir ?? defaultCacheDir(), 'agent-clis');
  const dir = join(root, `${name}-${version}`);
  const binary = join(dir, 'node_modules', '.bin', bin);
  const marker = join(dir, '.installed');
  const ready = async () =>
    (await access(marker).then(
      () => true,
      () => false,
    )) && (await versionProblem(binary, name)) === undefined;
  if (await ready()) return done(binary, 'cached');
  await mkdir(root, { recursive: true });
  return withFileLock(
    `${dir}.lock`,
    async () => {
      if (await ready()) return done(binary, 'cached');
      const temp = `${dir}.tmp-${process.pid}`;
      await rm(temp, { recursive: true, force: true });
      try {
        await npmInstall(temp, `${pkg}@${version}`, log);
        const tempBinary = join(temp, 'node_modules', '.bin', bin);
        // npm may one day skip Claude Code's postinstall (allowScripts): it is what puts the real binary in place.
        if (name === 'claude' && (await versionProblem(tempBinary, name)) !== undefined) {
          await execa(process.execPath, ['install.cjs'], {
            cwd: join(temp, 'node_modules', pkg),
            stdin: 'ignore',
            reject: false,
          });
        }
        const problem = await versionProblem(tempBinary, name);
        if (problem !== undefined) throw new Error(`installed ${pkg}@${version} but it does not run: ${problem}`);
        await rm(dir, { recursive: true, force: true });
        await rename(temp, dir);
        await writeFile(marker, `${pkg}@${version}\n`);
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
      log(`installed ${pkg}@${version} in ${Math.round((Date.now() - started) / 1000)}s`);
      return done(binary, 'installed');
    },
    { onWait: (holder) => log(`waiting for process ${holder.pid} to install ${pkg}@${version}…`) },
  );
}
