import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readExternalFlags } from '../../activities/session-steps.js';
import { testdir } from '../helpers/testdir.js';

const FLAGS = 'loop_station/flags/session_001';

describe('readExternalFlags', () => {
  const read = (root: string, names: string[]) => readExternalFlags({ root, session: 1, names, readyAtMs: 0 });
  const problems = (infos: Awaited<ReturnType<typeof read>>) => infos.map((i) => [i.name, i.problem?.message ?? null]);

  test('a flag that links out of the root or is a folder is a reported problem, not a crash or an absence', async () => {
    const [root, outside] = [await testdir(), await testdir({ 'x.flag': 'producer: OUT\n' })];
    await mkdir(join(root, FLAGS, 'DIR-SESSION001-REVIEWER-DONE.flag'), { recursive: true });
    await symlink(join(outside, 'x.flag'), join(root, FLAGS, 'OUT-SESSION001-REVIEWER-DONE.flag'));
    expect(problems(await read(root, ['OUT-SESSION001-REVIEWER-DONE.flag', 'DIR-SESSION001-REVIEWER-DONE.flag', 'GONE-SESSION001-REVIEWER-DONE.flag']))).toEqual([
      ['OUT-SESSION001-REVIEWER-DONE.flag', `${FLAGS}/OUT-SESSION001-REVIEWER-DONE.flag leads outside the root`],
      ['DIR-SESSION001-REVIEWER-DONE.flag', `${FLAGS}/DIR-SESSION001-REVIEWER-DONE.flag is not a regular file`],
      ['GONE-SESSION001-REVIEWER-DONE.flag', `${FLAGS}/GONE-SESSION001-REVIEWER-DONE.flag does not exist`],
    ]);
  });
});
