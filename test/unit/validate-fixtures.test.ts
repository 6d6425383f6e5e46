import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { FindingSchema } from '../../protocol/schemas/finding.js';
import { validateLoopFolder } from '../../protocol/validate.js';
import { fixtureSnapshot } from '../helpers/loop-folder.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/protocol/', import.meta.url));
const CASES = readdirSync(FIXTURES)
  .filter((name) => statSync(join(FIXTURES, name)).isDirectory())
  .sort();

describe('validate fixtures', () => {
  test('every violation code of the table has at least one fixture', () => {
    const seen = new Set(
      CASES.flatMap((name) =>
        (JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as { code: string }[]).map(
          (f) => f.code,
        ),
      ),
    );
    expect(
      [
        'FLAG_NAME_INVALID',
        'FLAG_ANONYMOUS',
        'FLAG_WRONG_SESSION',
        'FLAG_BODY_MISMATCH',
        'FLAG_UNKNOWN_PRODUCER',
        'FLAG_DUPLICATE',
        'TERMINAL_AFTER_TERMINAL',
        'DONE_WITHOUT_ARTIFACT',
        'ARTIFACT_CHANGED_AFTER_FLAG',
        'ORDER_BEFORE_EXECUTOR_RUNNING',
        'ORDER_SUPERVISOR_BEFORE_EXECUTOR_TERMINAL',
        'ORDER_READY_BEFORE_SELF_REVIEW',
        'ORDER_READY_AFTER_EXECUTOR_FAILURE',
        'ORDER_REVIEW_BEFORE_READY',
        'ORDER_SUPERVISOR_DONE_BEFORE_REVIEW',
        'ORDER_NEXT_SESSION_BEFORE_CLOSE',
        'REVIEW_NOT_CONSUMED',
        'VIOLATION_NOT_REPAIRED',
        'SESSION_NOT_CLOSED',
        'SESSION_GAP',
        'ARTIFACT_MISSING',
        'ARTIFACT_SECTIONS_MISSING',
        'DECISION_BLOCK_INVALID',
        'VARIANT_MANIFEST_INVALID',
        'CONTRACT_INVALID',
        'CONTRACT_EVIDENCE_MISSING',
        'LEGACY_FLAG_NAME',
        'SIGNAL_WITHOUT_FLAG',
      ].filter((code) => !seen.has(code)),
    ).toEqual([]);
  });

  test.for(CASES)('%s gives exactly the expected findings', async (name) => {
    const dir = join(FIXTURES, name);
    const expected = (JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as unknown[]).map((f) =>
      FindingSchema.parse(f),
    );
    expect(validateLoopFolder(await fixtureSnapshot(dir))).toEqual(expected);
  });
});
