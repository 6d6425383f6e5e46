import { cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { packagePath } from '../../server/package-paths.js';
import { ExitCode, ExitError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';

/** The skill folder shipped with loop-station. */
export const SKILL_SOURCE = packagePath('skills', 'loop-station');
const SKILL_NAME = 'loop-station';

export interface SkillInstallOptions {
  for: 'codex' | 'claude';
  /** `project`: under `cwd`, for agents working in that repository; `user`: every project of this user. */
  scope: 'user' | 'project';
  /** Print where it would go; write nothing. */
  dryRun?: boolean;
  /** Replace a different skill of the same name. */
  force?: boolean;
  /** @default process.cwd() */
  cwd?: string;
  /** HOME, CLAUDE_CONFIG_DIR. @default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface SkillInstallResult {
  for: 'codex' | 'claude';
  scope: 'user' | 'project';
  /** The installed folder, `…/skills/loop-station`. */
  target: string;
  action: 'installed' | 'replaced' | 'unchanged' | 'dry-run';
  /** Files of the skill, relative to `target`. */
  files: string[];
}

/**
 * Where each CLI discovers skills (docs/architecture.md#agent-cli-skills): Codex reads `.agents/skills/` of the
 * project and `~/.agents/skills/` (its documented user root); Claude Code reads `.claude/skills/` and
 * `$CLAUDE_CONFIG_DIR/skills/`, else `~/.claude/skills/`.
 */
export function skillTarget(options: Pick<SkillInstallOptions, 'for' | 'scope' | 'cwd' | 'env'>): string {
  const env = options.env ?? process.env;
  const cwd = resolve(options.cwd ?? process.cwd());
  const home = env.HOME || homedir();
  if (options.for === 'codex') return join(options.scope === 'project' ? cwd : home, '.agents', 'skills', SKILL_NAME);
  if (options.scope === 'project') return join(cwd, '.claude', 'skills', SKILL_NAME);
  return join(env.CLAUDE_CONFIG_DIR || join(home, '.claude'), 'skills', SKILL_NAME);
}

async function listFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true, encoding: 'utf8' });
  const kinds = await Promise.all(names.map(async (name) => ((await stat(join(dir, name))).isFile() ? name : null)));
  return kinds.filter((name): name is string => name !== null).sort();
}

/** True when `target` holds exactly the files of `source`, byte for byte. */
async function sameTree(source: string, target: string, files: readonly string[]): Promise<boolean> {
  const present = await listFiles(target);
  if (present.join('\n') !== files.join('\n')) return false;
  for (const file of files) {
    const [a, b] = await Promise.all([readFile(join(source, file)), readFile(join(target, file))]);
    if (!a.equals(b)) return false;
  }
  return true;
}

const exists = (path: string) =>
  readdir(path).then(
    () => true,
    () => false,
  );

/** Copies the loop-station skill where Codex or Claude Code discovers it; returns where and what it did. */
export async function skillInstallCommand(options: SkillInstallOptions, out: Output): Promise<SkillInstallResult> {
  const target = skillTarget(options);
  const files = await listFiles(SKILL_SOURCE);
  const base = { for: options.for, scope: options.scope, target, files };
  const report = (result: SkillInstallResult, message: string): SkillInstallResult => {
    out.log(message);
    return emit(out, result, target);
  };
  if (options.dryRun)
    return report(
      { ...base, action: 'dry-run' },
      `would install the ${SKILL_NAME} skill for ${options.for} (${options.scope}) into ${target}: ${files.join(', ')}`,
    );

  const present = await exists(target);
  if (present && (await sameTree(SKILL_SOURCE, target, files)))
    return report({ ...base, action: 'unchanged' }, `the ${SKILL_NAME} skill in ${target} is already up to date`);
  if (present && !options.force) {
    throw new ExitError(
      ExitCode.usage,
      `${target} already holds a different ${SKILL_NAME} skill\n` +
        `  fix: move it away, or pass --force to replace it with this version`,
    );
  }
  // Copy beside the target, then swap: an interrupted install never leaves half a skill.
  await mkdir(dirname(target), { recursive: true });
  const staging = `${target}.installing-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await cp(SKILL_SOURCE, staging, { recursive: true });
  if (present) await rm(target, { recursive: true, force: true });
  await rename(staging, target);
  return report(
    { ...base, action: present ? 'replaced' : 'installed' },
    `installed the ${SKILL_NAME} skill for ${options.for} (${options.scope}) into ${target}`,
  );
}
