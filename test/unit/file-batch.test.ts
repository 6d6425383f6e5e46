import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { fileBatch } from '../../activities/file-batch.js';
import { sha256Hex } from '../../activities/flags.js';
import type { EmitFlagInput } from '../../activities/session-steps.js';
import { flagBodyWhole } from '../../activities/watch-flags.js';

const dirs: string[] = [];
const tempRoot = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ls-batch-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const FLAGS = 'loop_station/flags/session_002';

const flagStep = (
  root: string,
  status: 'RUNNING' | 'DONE',
  seq: number,
): { step: 'emitFlag'; input: EmitFlagInput } => ({
  step: 'emitFlag',
  input: {
    root,
    session: 2,
    flag: { agent: 'EXEC', session: 2, role: 'EXECUTOR', status, occurrence: 1 },
    fields: { timestamp: `2026-12-06T08:00:0${seq}.000Z`, seq, next: ['LOOP_STATION'] },
    artifacts: [],
    rows: Array.from({ length: seq }, (_, i) => ({
      seq: i + 1,
      timestamp: `2026-12-06T08:00:0${i + 1}.000Z`,
      flag: `EXEC-SESSION002-EXECUTOR-${i === 0 ? 'RUNNING' : 'DONE'}.flag`,
      record: null,
      meaning: 'step',
      action: '-',
    })),
  },
});

describe('fileBatch', () => {
  test('writes its flags in the order given, each with review_flags.md as of that flag', async () => {
    const root = tempRoot();
    const out = await fileBatch({ root, steps: [flagStep(root, 'RUNNING', 1), flagStep(root, 'DONE', 2)] });
    // Each with the sha256 of its bytes: a flag rewritten in place after the write is found by it.
    const sha = (name: string) => sha256Hex(readFileSync(join(root, FLAGS, name)));
    expect(out).toEqual([
      { name: 'EXEC-SESSION002-EXECUTOR-RUNNING.flag', sha256: sha('EXEC-SESSION002-EXECUTOR-RUNNING.flag') },
      { name: 'EXEC-SESSION002-EXECUTOR-DONE.flag', sha256: sha('EXEC-SESSION002-EXECUTOR-DONE.flag') },
    ]);
    expect(
      readdirSync(join(root, FLAGS))
        .filter((n) => !n.startsWith('.'))
        .sort(),
    ).toEqual(['EXEC-SESSION002-EXECUTOR-DONE.flag', 'EXEC-SESSION002-EXECUTOR-RUNNING.flag']);
    expect(readFileSync(join(root, FLAGS, 'EXEC-SESSION002-EXECUTOR-DONE.flag'), 'utf8')).toContain('seq: 2');
    // A retried batch redoes its steps exactly: the same flags, nothing new.
    await fileBatch({ root, steps: [flagStep(root, 'RUNNING', 1), flagStep(root, 'DONE', 2)] });
    expect(readdirSync(join(root, FLAGS)).filter((n) => !n.startsWith('.'))).toHaveLength(2);
  });

  test('refuses a step that works in another root than the batch, before writing anything', async () => {
    const root = tempRoot();
    const other = tempRoot();
    await expect(
      fileBatch({ root, steps: [flagStep(root, 'RUNNING', 1), flagStep(other, 'DONE', 2)] }),
    ).rejects.toThrow(/step emitFlag works in .* not the batch's root/);
    expect(() => readdirSync(join(root, FLAGS))).toThrow();
  });
});

describe('flagBodyWhole (the watcher relays a flag at once when it is)', () => {
  const body =
    'timestamp: 2026-12-06T08:00:00.000Z\nproducer: OUTSIDE\nrole: REVIEWER\nsession: 002\nstatus: DONE\nnext: LOOP_STATION\n';
  test('a finished body is whole', () => expect(flagBodyWhole(body)).toBe(true));
  test('an empty file (created with O_EXCL, not written yet) is not', () => expect(flagBodyWhole('')).toBe(false));
  test('a body cut mid-line is not', () => expect(flagBodyWhole(body.slice(0, 60))).toBe(false));
  test('a body whose lines so far lack the status is not', () =>
    expect(flagBodyWhole('timestamp: 2026-12-06T08:00:00.000Z\nproducer: OUTSIDE\n')).toBe(false));
});
