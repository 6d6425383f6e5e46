import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ArtifactGateError } from '../../activities/errors.js';
import { emitFlag, type EmitFlagInput } from '../../activities/session-steps.js';
import { formatFlagName } from '../../protocol/flag-name.js';
import { flagsDir, sessionFilePath } from '../../protocol/layout.js';
import { parseFlagBody } from '../../protocol/schemas/flag-body.js';
import { testdir } from '../helpers/testdir.js';

const SESSION = 4;
const at = '2026-12-07T04:00:00.000Z';
const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

function input(root: string, status: 'DONE' | 'READY', artifacts: string[], seq: number): EmitFlagInput {
  const flag = { agent: 'SUPERVISOR', session: SESSION, role: 'SUPERVISOR' as const, status, occurrence: 1 };
  // Each flag's row is in review_flags.md before the flag appears (the engine's SessionTrail adds it first).
  const rows = Array.from({ length: seq }, (_, i) => ({
    seq: i + 1,
    timestamp: at,
    flag: i + 1 === seq ? formatFlagName(flag) : `CODEX-SESSION004-EXECUTOR-RUNNING-${i + 2}.flag`,
    record: null,
    meaning: `step ${i + 1}`,
    action: 'noted',
  }));
  return { root, session: SESSION, flag, fields: { timestamp: at, seq, next: ['CODEX'] }, artifacts, rows };
}

const flagBody = (root: string, status: string) =>
  parseFlagBody(readFileSync(join(root, flagsDir(SESSION), `SUPERVISOR-SESSION004-SUPERVISOR-${status}.flag`), 'utf8'));

describe('emitFlag', () => {
  test("a flag's artifacts carry the sha256 of their bytes, in the listed order", async () => {
    const report = sessionFilePath(SESSION, 'executorReport');
    const analysis = sessionFilePath(SESSION, 'supervisorAnalysis');
    const root = await testdir({ [report]: '# Report\n\nstatus: DONE\n', [analysis]: '# Analysis\n\nfine\n' });
    await emitFlag(input(root, 'READY', [analysis, report], 3));
    expect(flagBody(root, 'READY').fields.artifact).toEqual([
      { sha256: sha(readFileSync(join(root, analysis))), path: analysis },
      { sha256: sha(readFileSync(join(root, report))), path: report },
    ]);
    // review_flags.md lists the flag it preceded.
    expect(readFileSync(join(root, sessionFilePath(SESSION, 'reviewFlags')), 'utf8')).toContain(
      'SUPERVISOR-SESSION004-SUPERVISOR-READY.flag',
    );
  });

  test('SUPERVISOR-DONE hashes review_flags.md as rewritten for it, not as it was before', async () => {
    const reviewFlags = sessionFilePath(SESSION, 'reviewFlags');
    const decision = sessionFilePath(SESSION, 'decision');
    const root = await testdir({
      [reviewFlags]: '# an earlier review_flags.md, without the DONE row\n',
      [decision]: '# Decision\n\nclass: keep\n',
    });
    await emitFlag(input(root, 'DONE', [decision, reviewFlags], 5));
    const final = readFileSync(join(root, reviewFlags));
    expect(final.toString('utf8')).toContain('SUPERVISOR-SESSION004-SUPERVISOR-DONE.flag');
    expect(flagBody(root, 'DONE').fields.artifact).toEqual([
      { sha256: sha(readFileSync(join(root, decision))), path: decision },
      { sha256: sha(final), path: reviewFlags },
    ]);
  });

  test('an artifact that fails the gate writes no flag and is named, the first in the listed order', async () => {
    const report = sessionFilePath(SESSION, 'executorReport');
    const proposal = sessionFilePath(SESSION, 'executorProposal');
    const analysis = sessionFilePath(SESSION, 'supervisorAnalysis');
    const root = await testdir({ [analysis]: '# Analysis\n\nfine\n', [proposal]: '   \n\n' });
    // The report is missing and the proposal empty: the report is listed first, so it is the one named.
    const error = await emitFlag(input(root, 'READY', [analysis, report, proposal], 3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactGateError);
    expect((error as Error).message).toContain(report);
    expect(existsSync(join(root, flagsDir(SESSION), 'SUPERVISOR-SESSION004-SUPERVISOR-READY.flag'))).toBe(false);

    const onlyEmpty = await emitFlag(input(root, 'READY', [analysis, proposal], 3)).catch((e: unknown) => e);
    expect(onlyEmpty).toBeInstanceOf(ArtifactGateError);
    expect((onlyEmpty as Error).message).toContain(`${proposal} is empty`);
  });
});
