import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateLoopFolder } from '../../protocol/validate.js';
import { fixtureSnapshot } from '../helpers/loop-folder.js';
import { CASES, CORPUS, expectedOf, verdictProblems } from '../helpers/original-folders.js';

/**
 * Folders written the way the original LOOP-STATION skill's agents fill its templates, each with
 * its expected verdict (test/fixtures/original-folders/README.md). A new case is a folder. The same
 * cases through the CLI are in test/process/original-folders-cli.test.ts.
 */

describe('folders written from the original templates', () => {
  test('the corpus holds at least 15 folders, clean and violating about half each', () => {
    const clean = CASES.filter((name) => expectedOf(name).ok).length;
    expect({ enough: CASES.length >= 15, balanced: Math.abs(clean - (CASES.length - clean)) <= 2 }).toEqual({
      enough: true,
      balanced: true,
    });
  });

  test.for(CASES)('validate gets %s right', async (name) => {
    const findings = validateLoopFolder(await fixtureSnapshot(join(CORPUS, name)));
    expect(verdictProblems(findings, expectedOf(name))).toEqual([]);
  });
});
