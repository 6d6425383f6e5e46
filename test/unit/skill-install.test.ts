import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SKILL_SOURCE, skillInstallCommand, skillTarget, type SkillInstallOptions } from '../../cli/commands/skill.js';
import { ExitError } from '../../cli/exit-codes.js';
import type { Output } from '../../cli/output.js';
import { testdir } from '../helpers/testdir.js';

/** `loop-station skill install`: where each CLI discovers the skill, and what is never overwritten. */

function recorder(json = false): Output & { lines: { data: string[]; log: string[]; json: unknown[] } } {
  const lines = { data: [] as string[], log: [] as string[], json: [] as unknown[] };
  return {
    json,
    color: false,
    lines,
    data: (t) => lines.data.push(t),
    log: (t) => lines.log.push(t),
    json_: (v) => lines.json.push(v),
  };
}

describe('skillTarget', () => {
  const env = { HOME: '/home/ada', CLAUDE_CONFIG_DIR: '/cfg/claude' };
  test.for([
    [{ for: 'codex', scope: 'project' }, env, '/work/repo/.agents/skills/loop-station'],
    [{ for: 'codex', scope: 'user' }, env, '/home/ada/.agents/skills/loop-station'],
    [{ for: 'claude', scope: 'project' }, env, '/work/repo/.claude/skills/loop-station'],
    [{ for: 'claude', scope: 'user' }, env, '/cfg/claude/skills/loop-station'],
    [{ for: 'claude', scope: 'user' }, { HOME: '/home/ada' }, '/home/ada/.claude/skills/loop-station'],
  ] as const)('%o with %o → %s', ([choice, environment, target]) => {
    expect(skillTarget({ ...choice, cwd: '/work/repo', env: environment })).toBe(target);
  });
});

describe('skillInstallCommand', () => {
  const options = async (extra: Partial<SkillInstallOptions> = {}): Promise<SkillInstallOptions> => ({
    for: 'claude',
    scope: 'project',
    cwd: await testdir(),
    env: {},
    ...extra,
  });
  const skillFiles = [
    'SKILL.md',
    'references/external-reviewer.md',
    'references/start-a-loop.md',
    'references/watch-and-steer.md',
  ];

  test('--dry-run prints the target and writes nothing', async () => {
    const o = await options({ dryRun: true });
    const out = recorder();
    const result = await skillInstallCommand(o, out);
    expect(result).toEqual({
      for: 'claude',
      scope: 'project',
      target: join(o.cwd!, '.claude/skills/loop-station'),
      action: 'dry-run',
      files: skillFiles,
    });
    expect(out.lines.data).toEqual([result.target]);
    expect(existsSync(join(o.cwd!, '.claude'))).toBe(false);
  });

  test('installs a byte copy; a second install of the same version changes nothing', async () => {
    const o = await options({ for: 'codex' });
    const first = await skillInstallCommand(o, recorder());
    expect(first.action).toBe('installed');
    for (const f of skillFiles)
      expect(await readFile(join(first.target, f), 'utf8')).toBe(await readFile(join(SKILL_SOURCE, f), 'utf8'));
    const out = recorder(true);
    const again = await skillInstallCommand(o, out);
    expect(again.action).toBe('unchanged');
    expect(out.lines.json).toEqual([again]);
  });

  test('refuses to overwrite a different skill of the same name unless --force', async () => {
    const o = await options();
    const target = skillTarget(o);
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'SKILL.md'), '---\nname: loop-station\ndescription: someone else\n---\n');
    await expect(skillInstallCommand(o, recorder())).rejects.toThrow(
      new ExitError(
        2,
        `${target} already holds a different loop-station skill\n  fix: move it away, or pass --force to replace it with this version`,
      ),
    );
    expect(await readFile(join(target, 'SKILL.md'), 'utf8')).toBe(
      '---\nname: loop-station\ndescription: someone else\n---\n',
    );
    const forced = await skillInstallCommand({ ...o, force: true }, recorder());
    expect(forced.action).toBe('replaced');
    expect(await readFile(join(target, 'SKILL.md'), 'utf8')).toBe(
      await readFile(join(SKILL_SOURCE, 'SKILL.md'), 'utf8'),
    );
  });
});

describe('skills/loop-station', () => {
  test('front matter names the skill and describes it on one line of at most 1024 characters; every linked reference exists', async () => {
    const text = await readFile(join(SKILL_SOURCE, 'SKILL.md'), 'utf8');
    const front = /^---\nname: (.+)\ndescription: (.+)\n---\n/.exec(text);
    expect(front?.[1]).toBe('loop-station');
    expect(front![2]!.length).toBeLessThanOrEqual(1024);
    const links = [...text.matchAll(/\]\((references\/[^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toEqual([
      'references/start-a-loop.md',
      'references/watch-and-steer.md',
      'references/external-reviewer.md',
    ]);
    for (const link of links) expect(existsSync(join(SKILL_SOURCE, link))).toBe(true);
  });
});
