import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { FINDING_CODES } from '../../protocol/finding.js';
import type { Finding } from '../../protocol/schemas/finding.js';

/** The corpus of folders written from the original templates, and how a verdict is checked against expected.json. */

export const CORPUS = fileURLToPath(new URL('../fixtures/original-folders/', import.meta.url));
export const CASES = readdirSync(CORPUS)
  .filter((name) => statSync(join(CORPUS, name)).isDirectory())
  .sort();

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
export type Expected = z.infer<typeof ExpectedSchema>;

export const expectedOf = (name: string): Expected =>
  ExpectedSchema.parse(JSON.parse(readFileSync(join(CORPUS, name, 'expected.json'), 'utf8')));

const matches = (f: Finding, m: z.infer<typeof FindingMatch>) =>
  f.code === m.code &&
  (m.severity === undefined || f.severity === m.severity) &&
  (m.session === undefined || f.session === m.session) &&
  (m.file === undefined || f.file === m.file);

/** What is wrong with these findings for this case: an empty list when validate is right. */
export function verdictProblems(findings: readonly Finding[], expected: Expected): string[] {
  const line = (f: Finding) => `${f.severity} ${f.code} ${f.session ?? '-'} ${f.file ?? '-'}: ${f.message}`;
  const errors = findings.filter((f) => f.severity === 'error');
  const problems: string[] = [];
  if (expected.ok !== (errors.length === 0))
    problems.push(`ok should be ${expected.ok}; errors: ${errors.map(line).join(' | ') || 'none'}`);
  for (const m of expected.must)
    if (!findings.some((f) => matches(f, m))) problems.push(`missing ${JSON.stringify(m)}`);
  for (const n of expected.mustNot) {
    const m = typeof n === 'string' ? { code: n } : n;
    for (const f of findings.filter((x) => matches(x, m))) problems.push(`unwanted ${line(f)}`);
  }
  return problems;
}
