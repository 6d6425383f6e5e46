import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { FINDING_CODES } from '../../protocol/finding.js';
import type { Finding } from '../../protocol/schemas/finding.js';
import { ValidateReportSchema } from '../../protocol/schemas/validate-report.js';
import { validateLoopFolder } from '../../protocol/validate.js';
import { BIN, run } from '../helpers/cli.js';
import { fixtureSnapshot } from '../helpers/loop-folder.js';

/**
 * Folders written the way the original LOOP-STATION skill's agents fill its templates, each with
 * its expected verdict (test/fixtures/original-folders/README.md). A new case is a folder.
 */

const CORPUS = fileURLToPath(new URL('../fixtures/original-folders/', import.meta.url));
const CASES = readdirSync(CORPUS).filter((name) => statSync(join(CORPUS, name)).isDirectory()).sort();

const Code = z.enum(FINDING_CODES);
const FindingMatch = z.strictObject({
  code: Code,
  severity: z.enum(['error', 'warning']).optional(),
  session: z.int().nonnegative().nullable().optional(),
  file: z.string().nullable().optional(),
});
const ExpectedSchema = z.strictObject({
  /** What the folder is, and what it checks. */
  about: z.string().min(1),
  /** No error: the trail is accepted. */
  ok: z.boolean(),
  /** Also run through `loop-station validate <dir> --json`. */
  cli: z.boolean().default(false),
  /** Findings that must appear; absent fields match anything. */
  must: z.array(FindingMatch),
  /** Findings that must not appear: a code, or a code in one session. */
  mustNot: z.array(z.union([Code, FindingMatch])),
});
type Expected = z.infer<typeof ExpectedSchema>;

const expectedOf = (name: string): Expected => ExpectedSchema.parse(JSON.parse(readFileSync(join(CORPUS, name, 'expected.json'), 'utf8')));

const matches = (f: Finding, m: z.infer<typeof FindingMatch>) =>
  f.code === m.code && (m.severity === undefined || f.severity === m.severity) && (m.session === undefined || f.session === m.session) && (m.file === undefined || f.file === m.file);

/** What is wrong with these findings for this case: an empty list when validate is right. */
function verdictProblems(findings: readonly Finding[], expected: Expected): string[] {
  const line = (f: Finding) => `${f.severity} ${f.code} ${f.session ?? '-'} ${f.file ?? '-'}: ${f.message}`;
  const errors = findings.filter((f) => f.severity === 'error');
  const problems: string[] = [];
  if (expected.ok !== (errors.length === 0)) problems.push(`ok should be ${expected.ok}; errors: ${errors.map(line).join(' | ') || 'none'}`);
  for (const m of expected.must) if (!findings.some((f) => matches(f, m))) problems.push(`missing ${JSON.stringify(m)}`);
  for (const n of expected.mustNot) {
    const m = typeof n === 'string' ? { code: n } : n;
    for (const f of findings.filter((x) => matches(x, m))) problems.push(`unwanted ${line(f)}`);
  }
  return problems;
}

describe('folders written from the original templates', () => {
  test('the corpus holds at least 15 folders, clean and violating about half each', () => {
    const clean = CASES.filter((name) => expectedOf(name).ok).length;
    expect({ enough: CASES.length >= 15, balanced: Math.abs(clean - (CASES.length - clean)) <= 2 }).toEqual({ enough: true, balanced: true });
  });

  test.for(CASES)('validate gets %s right', async (name) => {
    const findings = validateLoopFolder(await fixtureSnapshot(join(CORPUS, name)));
    expect(verdictProblems(findings, expectedOf(name))).toEqual([]);
  });

  test.for(CASES.filter((name) => expectedOf(name).cli))('loop-station validate %s --json agrees, in any time zone', async (name) => {
    // A far zone: a time written without one must not be read in the machine's zone.
    const r = await run(process.execPath, [BIN, 'validate', join(CORPUS, name), '--json'], { env: { TZ: 'Pacific/Kiritimati' } });
    const report = ValidateReportSchema.parse(JSON.parse(r.stdout));
    const expected = expectedOf(name);
    expect({ code: r.code, mode: report.mode, ok: report.ok, problems: verdictProblems(report.findings, expected) }).toEqual({ code: expected.ok ? 0 : 1, mode: 'original', ok: expected.ok, problems: [] });
  });
});
