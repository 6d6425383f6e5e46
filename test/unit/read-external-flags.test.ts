import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readExternalFlags } from '../../activities/session-steps.js';
import { testdir } from '../helpers/testdir.js';

const FLAGS = 'loop_station/flags/session_001';

describe('readExternalFlags', () => {
  const read = (root: string, names: string[]) => readExternalFlags({ root, session: 1, names, readyAtMs: 0 });
  const problems = (infos: Awaited<ReturnType<typeof read>>) => infos.map((i) => [i.name, i.problem?.message ?? null]);

  test("leaves out flags the engine wrote (writer: engine) and reports an unknown agent's flag for the workflow to judge", async () => {
    const root = await testdir({
      [`${FLAGS}/SLOW-SESSION001-REVIEWER-TIMEOUT.flag`]:
        'timestamp: 2026-01-01T00:00:00.000Z\nproducer: SLOW\nrole: REVIEWER\nsession: 001\nstatus: TIMEOUT\nwriter: engine\nnext: LOOP_STATION\n',
      [`${FLAGS}/STRANGER-SESSION001-REVIEWER-DONE.flag`]:
        'producer: STRANGER\nrole: REVIEWER\nsession: 001\nstatus: DONE\n',
    });
    const infos = await read(root, ['SLOW-SESSION001-REVIEWER-TIMEOUT.flag', 'STRANGER-SESSION001-REVIEWER-DONE.flag']);
    expect(infos.map((i) => [i.name, i.flag?.agent, i.problem])).toEqual([
      ['STRANGER-SESSION001-REVIEWER-DONE.flag', 'STRANGER', null],
    ]);
  });

  test('a flag that links out of the root or is a folder is a reported problem, not a crash or an absence', async () => {
    const [root, outside] = [await testdir(), await testdir({ 'x.flag': 'producer: OUT\n' })];
    await mkdir(join(root, FLAGS, 'DIR-SESSION001-REVIEWER-DONE.flag'), { recursive: true });
    await symlink(join(outside, 'x.flag'), join(root, FLAGS, 'OUT-SESSION001-REVIEWER-DONE.flag'));
    expect(
      problems(
        await read(root, [
          'OUT-SESSION001-REVIEWER-DONE.flag',
          'DIR-SESSION001-REVIEWER-DONE.flag',
          'GONE-SESSION001-REVIEWER-DONE.flag',
        ]),
      ),
    ).toEqual([
      ['OUT-SESSION001-REVIEWER-DONE.flag', `${FLAGS}/OUT-SESSION001-REVIEWER-DONE.flag leads outside the root`],
      ['DIR-SESSION001-REVIEWER-DONE.flag', `${FLAGS}/DIR-SESSION001-REVIEWER-DONE.flag is not a regular file`],
      ['GONE-SESSION001-REVIEWER-DONE.flag', `${FLAGS}/GONE-SESSION001-REVIEWER-DONE.flag does not exist`],
    ]);
  });
});
