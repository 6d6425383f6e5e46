import { cp, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT, RUNTIME } from '../../scripts/checkout-cli.mjs';
import { run } from '../helpers/cli.js';
import { testdir } from '../helpers/testdir.js';

/**
 * A checkout's `loop-station` as a clone runs it: bin/loop-station.mjs compiles the sources once
 * per content into .loop-station/cli/ and starts from there. Each test works on a copy of the
 * checkout's runtime (node_modules linked), so its compiled trees and edits are its own.
 */

async function checkoutCopy(): Promise<{ dir: string; bin: string; trees: () => Promise<string[]> }> {
  const dir = await testdir();
  for (const entry of [...RUNTIME, 'bin', 'scripts/checkout-cli.mjs', 'package.json', 'tsconfig.json'])
    await cp(join(ROOT, entry), join(dir, entry), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const cache = join(dir, '.loop-station', 'cli');
  return {
    dir,
    bin: join(dir, 'bin', 'loop-station.mjs'),
    trees: async () => (await readdir(cache).catch(() => [] as string[])).sort(),
  };
}

const loopStation = (bin: string, args: string[]) => run(process.execPath, [bin, ...args]);

/** Replaces `from` with `to` in one of the copy's sources: an edit, as a developer makes one. */
async function edit(dir: string, file: string, from: string, to: string): Promise<void> {
  const path = join(dir, file);
  const text = await readFile(path, 'utf8');
  expect(text).toContain(from);
  await writeFile(path, text.replace(from, to));
}

const PROGRAM_SUMMARY = 'Durable improvement loops for coding agents, on Temporal';

describe('a checkout runs its sources compiled', () => {
  test('compiled once per content: the next start reuses the tree, an edit gets a new one', async () => {
    const { dir, bin, trees } = await checkoutCopy();
    const first = await loopStation(bin, ['--version']);
    expect(first).toMatchObject({
      code: 0,
      stdout: `${JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version}\n`,
    });
    const [tree, ...others] = await trees();
    expect(others).toEqual([]);
    const main = join(dir, '.loop-station', 'cli', tree!, 'cli', 'main.js');
    const compiledAt = (await stat(main)).mtimeMs;

    // The same sources: the same tree, not compiled again.
    expect((await loopStation(bin, ['--help'])).stdout).toContain(PROGRAM_SUMMARY);
    expect(await trees()).toEqual([tree]);
    expect((await stat(main)).mtimeMs).toBe(compiledAt);

    // An edit needs no build step: the next start runs it.
    await edit(dir, 'cli/program.ts', PROGRAM_SUMMARY, 'EDITED SUMMARY');
    const help = await loopStation(bin, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('EDITED SUMMARY');
    expect(help.stdout).not.toContain(PROGRAM_SUMMARY);
    expect(await trees()).toHaveLength(2);
  });

  test('starts at once on a cold checkout each get the CLI, and one tree is left, no half-built folder', async () => {
    const { bin, trees } = await checkoutCopy();
    const runs = await Promise.all([1, 2, 3, 4].map(() => loopStation(bin, ['--version'])));
    for (const r of runs) expect(r).toMatchObject({ code: 0, stderr: '' });
    const left = await trees();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^[0-9a-f]{16}$/);
  });

  test('a source that does not compile is reported by tsx, as before, and leaves no tree', async () => {
    const { dir, bin, trees } = await checkoutCopy();
    await edit(dir, 'cli/program.ts', PROGRAM_SUMMARY, `${PROGRAM_SUMMARY}' +++ (`);
    const broken = await loopStation(bin, ['--version']);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain('program.ts');
    expect(await trees()).toEqual([]);
  });

  test('trees nobody started for two days, and folders of compiles that died, go when another is compiled', async () => {
    const { dir, bin, trees } = await checkoutCopy();
    const cache = join(dir, '.loop-station', 'cli');
    const ago = (ms: number) => new Date(Date.now() - ms);
    const plant = async (name: string, age: Date) => {
      await mkdir(join(cache, name, 'cli'), { recursive: true });
      await writeFile(join(cache, name, 'cli', 'main.js'), '');
      await utimes(join(cache, name), age, age);
    };
    await plant('00000000000000aa', ago(3 * 24 * 3600_000));
    await plant('00000000000000bb', ago(24 * 3600_000));
    await plant('00000000000000cc.tmp-1', ago(3600_000));
    await plant('00000000000000dd.tmp-2', ago(10_000));
    expect((await loopStation(bin, ['--version'])).code).toBe(0);
    const left = await trees();
    expect(left).not.toContain('00000000000000aa');
    expect(left).not.toContain('00000000000000cc.tmp-1');
    expect(left).toContain('00000000000000bb');
    expect(left).toContain('00000000000000dd.tmp-2');
    expect(left).toHaveLength(3);
  });
});
