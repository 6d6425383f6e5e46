import { statSync } from 'node:fs';
import { execa } from 'execa';
import semver from 'semver';

/**
 * The agent CLIs the adapters are written and tested against (docs/architecture.md#agent-clis). Both change
 * flags and event shapes often: `version` is the one the adapter tests run (pin it exactly, and
 * move it only with those tests green); `supported` is the range a run accepts, checked before
 * every run (docs/agent-setup.md#cli-versions). A CLI outside it ends the run with a `needs_human`
 * failure naming the install command, so the loop pauses instead of failing session after session
 * when a CLI auto-updates.
 */
export const AGENT_CLIS = {
  codex: { bin: 'codex', package: '@openai/codex', version: '0.169.0', supported: '>=0.169.0 <0.170.0' },
  // Claude Code ships a patch release most days and keeps its -p flags within a minor version.
  claude: { bin: 'claude', package: '@anthropic-ai/claude-code', version: '2.1.330', supported: '>=2.1.330 <2.2.0' },
} as const;
export type AgentCliName = keyof typeof AGENT_CLIS;

/** `npm i -g @openai/codex@0.169.0`: the install command named in not_installed results. */
export const installHint = (name: AgentCliName): string =>
  `npm i -g ${AGENT_CLIS[name].package}@${AGENT_CLIS[name].version}`;

/** The version in `codex --version` (`codex-cli 0.169.0`) or `claude --version` (`2.1.330 (Claude Code)`) output. */
export function parseCliVersion(output: string): string | null {
  const match = /\b(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\b/.exec(output);
  return match ? match[1]! : null;
}

export type CliVersionCheck =
  { ok: true; version: string; tested: boolean } | { ok: false; version: string | null; problem: string; fix: string };

/** Whether `version` (null: it could not be read) is in the supported range of `name`. */
export function judgeCliVersion(name: AgentCliName, version: string | null, binary: string): CliVersionCheck {
  const cli = AGENT_CLIS[name];
  const fix = `install the supported version: \`${installHint(name)}\` (or set command: to a ${cli.bin} binary in ${cli.supported})`;
  if (version === null) return { ok: false, version, problem: `\`${binary} --version\` printed no version`, fix };
  if (!semver.satisfies(version, cli.supported, { includePrerelease: false }))
    return {
      ok: false,
      version,
      problem: `${cli.bin} ${version} at ${binary} is outside the supported range ${cli.supported}`,
      fix,
    };
  return { ok: true, version, tested: version === cli.version };
}

const checked = new Map<string, CliVersionCheck>();

/**
 * Runs `<binary> --version` and judges it, once per binary file (path, size and change time): a CLI
 * updated in place is checked again, an unchanged one costs nothing after the first run.
 */
export async function checkCliVersion(
  name: AgentCliName,
  binary: string,
  env: Record<string, string>,
): Promise<CliVersionCheck> {
  let key = binary;
  try {
    const s = statSync(binary);
    key = `${binary}\0${s.size}\0${s.mtimeMs}`;
  } catch {
    // judged below: the probe fails
  }
  const known = checked.get(key);
  if (known) return known;
  const probe = await execa(binary, ['--version'], {
    env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    timeout: 30_000,
  });
  const version = probe.exitCode === 0 ? parseCliVersion(String(probe.stdout)) : null;
  const result = judgeCliVersion(name, version, binary);
  if (result.ok || probe.exitCode === 0) checked.set(key, result);
  return result;
}
