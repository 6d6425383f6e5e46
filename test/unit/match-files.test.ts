import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { listUnder as workerList, matchFiles } from '../../activities/globs.js';
import { checkSpecGlobs, listUnder as clientList } from '../../cli/spec-globs.js';
import { walkGlobs } from '../../protocol/glob-walk.js';
import { toLoopConfig } from '../../protocol/schemas/loop-config.js';
import { LoopSpecSchema } from '../../protocol/schemas/loop-spec.js';
import { testdir } from '../helpers/testdir.js';

/** The pattern walk on real folders, through the worker's and the client's folder listings. */

async function project(): Promise<string> {
  const root = await testdir({
    'eval.py': 'e',
    'eval.json': '{}',
    '.env': 'K=v',
    'src/a.py': 'a',
    'src/.hidden.py': 'h',
    'src/vendor/v.py': 'v',
    'pkg/node_modules/dep/x.py': 'x',
    '.git/HEAD': 'ref',
    'loop_station/contract.json': '{}',
    'data/train/0.csv': '0',
  });
  const outside = await testdir({ 'secret.py': 's' });
  await symlink(outside, join(root, 'src/out'));
  await symlink(join(root, 'eval.py'), join(root, 'eval-link.py'));
  await mkdir(join(root, 'empty'));
  return root;
}

describe('matching files on disk', () => {
  test('symlinks are listed and never followed; skipped folders and dotfiles stay out', async () => {
    const root = await project();
    expect(await matchFiles(root, ['**/*.py', 'src/out', '!src/vendor'])).toEqual([
      { path: 'eval-link.py', kind: 'symlink' },
      { path: 'eval.py', kind: 'file' },
      { path: 'src/a.py', kind: 'file' },
      { path: 'src/out', kind: 'symlink' },
    ]);
  });

  test('the worker and the client list folders alike', async () => {
    const root = await project();
    const globs = ['**', '.env', 'data'];
    expect(await walkGlobs(clientList(root), globs)).toEqual(await walkGlobs(workerList(root), globs));
  });

  test('a root that does not exist matches nothing', async () => {
    expect(await matchFiles(join(await testdir(), 'not-yet'), ['**'])).toEqual([]);
  });

  test('submit checks the patterns against a root it can read, and skips one it cannot', async () => {
    const root = await project();
    const config = (fields: Record<string, unknown>) =>
      toLoopConfig(
        LoopSpecSchema.parse({
          name: 'x',
          root,
          goal: 'g',
          budget: { sessions: 1 },
          evidence: { command: 'c', metric: 'm' },
          executor: { agent: 'shell', command: 'c' },
          ...fields,
        }),
        String(fields.root ?? root),
      );
    expect(
      await checkSpecGlobs(config({ workspace: ['src/**'], protected: ['eval.{py,json}', 'eval.{yml,yaml}'] })),
    ).toEqual({
      errors: [`protected.1: "eval.{yml,yaml}" matches no file under ${root}`],
      fix: 'make each protected pattern name files that exist, or remove it (docs/patterns.md); then submit again',
      warnings: [],
    });
    expect(await checkSpecGlobs(config({ root: join(root, 'elsewhere'), protected: ['eval.{yml,yaml}'] }))).toBeNull();
  });
});
