#!/usr/bin/env node
// The evidence command: runs slugify() over cases.json and prints ONE JSON object of metrics.
import { readFileSync } from 'node:fs';

const cases = JSON.parse(readFileSync(new URL('./cases.json', import.meta.url), 'utf8'));
const { slugify } = await import('./slugify.mjs');
let passed = 0;
const failures = [];
for (const c of cases) {
  let got;
  try {
    got = slugify(c.in);
  } catch (error) {
    got = `throws: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (got === c.out) passed += 1;
  else failures.push({ in: c.in, want: c.out, got });
}
process.stderr.write(
  failures
    .map((f) => `FAIL ${JSON.stringify(f.in)}: want ${JSON.stringify(f.want)}, got ${JSON.stringify(f.got)}\n`)
    .join(''),
);
process.stdout.write(
  `${JSON.stringify({ pass_rate: Number((passed / cases.length).toFixed(4)), passed, cases: cases.length })}\n`,
);
