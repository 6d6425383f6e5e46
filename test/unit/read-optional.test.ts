import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { recordIntervention } from '../../activities/artifacts.js';
import { FileReadError, PathEscapeError } from '../../activities/errors.js';
import { readOptionalText, SYNC_IO_MAX_BYTES } from '../../activities/read-optional.js';
import { toySpec } from '../helpers/loops.js';
import { testdir } from '../helpers/testdir.js';

const escapeMessage = (root: string, rel: string, target: string) =>
  `${rel}: resolves through ${join(root, rel)} to ${target}, outside the root (loop root ${root}); use a POSIX path relative to the root, without .., backslashes or symlinks that leave it`;

describe('readOptionalText', () => {
  test('a small file and one past the size read synchronously come back the same way', async () => {
    const root = await testdir({ 'small.md': 'é small\n' });
    const big = `${'x'.repeat(SYNC_IO_MAX_BYTES)}é\n`;
    await writeFile(join(root, 'big.log'), big);
    expect(await readOptionalText(root, 'small.md')).toBe('é small\n');
    expect(await readOptionalText(root, 'big.log')).toBe(big);
  });

  test('a missing file, or one under a path that is a file (ENOTDIR), is absent: null', async () => {
    const root = await testdir({ 'a.txt': 'x' });
    expect([await readOptionalText(root, 'missing.md'), await readOptionalText(root, 'a.txt/inner.md')]).toEqual([
      null,
      null,
    ]);
  });

  test('a folder where a file should be is a FileReadError with its cause, not an absence', async () => {
    const root = await testdir();
    await mkdir(join(root, 'loop_station/leaderboard.csv'), { recursive: true });
    const error = await readOptionalText(root, 'loop_station/leaderboard.csv').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileReadError);
    expect((error as FileReadError).message).toBe(
      `loop_station/leaderboard.csv: cannot be read: EISDIR: illegal operation on a directory, read (loop root ${root}); make it a readable regular file, then resume`,
    );
    expect(((error as FileReadError).cause as NodeJS.ErrnoException).code).toBe('EISDIR');
  });

  test('a link out of the root is a PathEscapeError, not an absence', async () => {
    const [root, outside] = [await testdir(), await testdir({ 'secret.txt': 'outside' })];
    await symlink(join(outside, 'secret.txt'), join(root, 'contract.json'));
    const error = await readOptionalText(root, 'contract.json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathEscapeError);
    expect((error as PathEscapeError).message).toBe(escapeMessage(root, 'contract.json', join(outside, 'secret.txt')));
  });

  test('an activity reading the leaderboard fails on a link out of the root instead of rendering an empty ledger', async () => {
    const [root, outside] = [await testdir(), await testdir({ 'rows.csv': 'session\n' })];
    await mkdir(join(root, 'loop_station'));
    await symlink(join(outside, 'rows.csv'), join(root, 'loop_station/leaderboard.csv'));
    const error = await recordIntervention({
      config: toySpec(root, 'q'),
      workflowId: 'loop-x',
      interventions: [],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathEscapeError);
    expect((error as PathEscapeError).message).toBe(
      escapeMessage(root, 'loop_station/leaderboard.csv', join(outside, 'rows.csv')),
    );
    await expect(readFile(join(root, 'loop_station/summaries/SESSION_LEDGER.md'))).rejects.toThrow('ENOENT');
  });
});
