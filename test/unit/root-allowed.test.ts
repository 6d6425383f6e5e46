import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RootNotAllowedError } from '../../activities/errors.js';
import { assertRootAllowed } from '../../activities/paths.js';
import { testdir } from '../helpers/testdir.js';

/** A loop root counts as where it really leads, links followed, also before it exists. */
describe('assertRootAllowed', () => {
  test('a root inside an allowed folder, existing or not yet, is allowed', async () => {
    const allowed = await testdir({ 'loops/a/x.txt': '' });
    expect(() => assertRootAllowed(join(allowed, 'loops/a'), [allowed])).not.toThrow();
    expect(() => assertRootAllowed(join(allowed, 'loops/new/deeper'), [allowed])).not.toThrow();
  });

  test.for([
    ['a link to a folder outside', true],
    ['a link to a folder outside that does not exist yet', false],
  ] as const)('a root that is %s is refused', async ([, targetExists]) => {
    const [allowed, outside] = [await testdir(), await testdir()];
    const target = join(outside, 'elsewhere');
    if (targetExists) await mkdir(target);
    await symlink(target, join(allowed, 'root'));
    expect(() => assertRootAllowed(join(allowed, 'root'), [allowed])).toThrow(RootNotAllowedError);
  });

  test('a root under a linked folder that leads outside is refused before the folder exists', async () => {
    const [allowed, outside] = [await testdir(), await testdir()];
    await symlink(join(outside, 'gone'), join(allowed, 'via'));
    expect(() => assertRootAllowed(join(allowed, 'via/loop'), [allowed])).toThrow(RootNotAllowedError);
  });
});
