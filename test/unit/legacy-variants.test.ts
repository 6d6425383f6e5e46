import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compareWithVariant, restoreVariant, snapshotVariant } from '../../activities/variants.js';
import { compileGlobs } from '../../protocol/glob.js';
import { testdir } from '../helpers/testdir.js';

/**
 * Variants snapshotted by engines before the picomatch matcher keep the matcher that chose their
 * files: a loop that runs across an upgrade must not lose files a pattern names only today.
 */

const AT = '2026-12-06T00:00:00.000Z';

/** A baseline as an older engine wrote it for `workspace: [src]`: no pattern_syntax, and no file (`src` named a file then). */
async function legacyBaseline(root: string): Promise<string> {
  const made = await snapshotVariant({
    root,
    session: 0,
    slug: 'baseline',
    workspace: [],
    protectedGlobs: [],
    command: 'true',
    reason: 'baseline',
    createdAt: AT,
  });
  const path = join(root, made.dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  delete manifest.pattern_syntax;
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return made.dir;
}

describe('variants of engines before picomatch', () => {
  test('the legacy reading: braces, classes and a bare folder are literal text, ** also matches dotfiles', () => {
    const legacy = compileGlobs(['src', 'eval.{py,json}', 'x[12].txt', 'lib/**'], 'legacy');
    const today = compileGlobs(['src', 'eval.{py,json}', 'x[12].txt', 'lib/**']);
    const paths = ['src', 'src/a.py', 'eval.py', 'eval.{py,json}', 'x1.txt', 'x[12].txt', 'lib/.env'];
    expect(paths.filter((p) => legacy.includes(p))).toEqual(['src', 'eval.{py,json}', 'x[12].txt', 'lib/.env']);
    // picomatch also takes a path equal to the pattern's text.
    expect(paths.filter((p) => today.includes(p))).toEqual([
      'src',
      'src/a.py',
      'eval.py',
      'eval.{py,json}',
      'x1.txt',
      'x[12].txt',
    ]);
  });

  test('a restore to a variant without pattern_syntax deletes nothing the old matcher never chose', async () => {
    const root = await testdir({ 'src/a.py': 'a', 'src/b.py': 'b', 'notes.txt': 'n' });
    const variant = await legacyBaseline(root);
    // Read today, `src` is the whole folder, absent from that (empty) variant: without the legacy
    // reading the restore would delete both files.
    const restored = await restoreVariant({
      root,
      session: 1,
      variantDir: variant,
      globs: ['src'],
      approvalReference: 'decision session_000',
      reason: 'test',
      createdAt: AT,
    });
    expect({
      restored,
      a: await readFile(join(root, 'src/a.py'), 'utf8'),
      b: await readFile(join(root, 'src/b.py'), 'utf8'),
    }).toEqual({
      restored: { manifestPath: null, edited: [], verified: true },
      a: 'a',
      b: 'b',
    });
    expect(await compareWithVariant(root, variant, ['src'], 'copied')).toEqual([]);
  });

  test('a variant the engine writes today says which matcher chose its files, and is restored with it', async () => {
    const root = await testdir({ 'src/a.py': 'a' });
    const made = await snapshotVariant({
      root,
      session: 0,
      slug: 'baseline',
      workspace: ['src'],
      protectedGlobs: [],
      command: 'true',
      reason: 'baseline',
      createdAt: AT,
    });
    expect(made.manifest.pattern_syntax).toBe('picomatch');
    await writeFile(join(root, 'src/a.py'), 'changed');
    await writeFile(join(root, 'src/new.py'), 'new');
    const restored = await restoreVariant({
      root,
      session: 1,
      variantDir: made.dir,
      globs: ['src'],
      approvalReference: 'decision session_000',
      reason: 'test',
      createdAt: AT,
    });
    expect({
      edited: restored.edited,
      verified: restored.verified,
      a: await readFile(join(root, 'src/a.py'), 'utf8'),
    }).toEqual({ edited: ['src/a.py', 'src/new.py'], verified: true, a: 'a' });
  });
});
