import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { readLoopFolder, validateCommand } from '../../cli/commands/validate.js';
import { ValidateReportSchema } from '../../protocol/schemas/validate-report.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/protocol/', import.meta.url));
const rel = (name: string) => `test/fixtures/protocol/${name}`;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('validateCommand', () => {
  test('a clean folder exits 0 with one line', async () => {
    const r = await validateCommand({ dir: rel('clean-reviewed') });
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([
      0,
      `clean: ${join(FIXTURES, 'clean-reviewed')} follows the protocol\n`,
      '',
    ]);
  });

  test('findings print as ERROR CODE session NNN file: message, then the fix', async () => {
    const r = await validateCommand({ dir: rel('review-not-consumed') });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(
      [
        "ERROR REVIEW_NOT_CONSUMED session 001 loop_station/flags/session_001/LOOP_STATION-SESSION001-SUPERVISOR-DONE.flag: CLAUDE's counted review has no REVIEW_CONSUMED:CLAUDE record before SUPERVISOR-DONE",
        '  fix: record REVIEW_CONSUMED:CLAUDE in loop_station/sessions/session_001/review_flags.md before the close',
        '1 error, 0 warnings in test/fixtures/protocol/review-not-consumed',
        '',
      ].join('\n'),
    );
  });

  test('loop-level findings have no session; the loop_station folder itself is accepted', async () => {
    const r = await validateCommand({ dir: `${rel('artifact-missing')}/loop_station` });
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([
      'ERROR ARTIFACT_MISSING loop_station/summaries/ROLLING_SUMMARY.md: ROLLING_SUMMARY.md is missing though sessions closed',
      '  fix: summaries are rendered before every close: resume the loop, or re-render them from the session folders',
    ]);
  });

  test('warnings pass unless strict', async () => {
    const lax = await validateCommand({ dir: rel('artifact-changed-after-flag') });
    const strict = await validateCommand({ dir: rel('artifact-changed-after-flag'), strict: true });
    expect([lax.exitCode, lax.findings.map((f) => f.severity)]).toEqual([0, ['warning', 'warning']]);
    expect([strict.exitCode, strict.findings.map((f) => f.severity)]).toEqual([1, ['error', 'error']]);
  });

  test('--json prints the report schema', async () => {
    const r = await validateCommand({ dir: rel('session-not-closed-live'), json: true });
    const report = ValidateReportSchema.parse(JSON.parse(r.stdout));
    expect({ ...report, findings: report.findings.map((f) => f.code) }).toEqual({
      dir: rel('session-not-closed-live'),
      root: join(FIXTURES, 'session-not-closed-live'),
      mode: 'engine',
      strict: false,
      ok: true,
      errors: 0,
      warnings: 1,
      findings: ['SESSION_NOT_CLOSED'],
    });
    expect(r.exitCode).toBe(0);
  });

  test('a folder without loop_station/ exits 2 and says what to pass', async () => {
    const r = await validateCommand({ dir: 'test/fixtures/no-such-loop' });
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([
      2,
      '',
      'test/fixtures/no-such-loop: no loop_station/ folder here; pass the loop root or its loop_station/ folder\n',
    ]);
  });

  test('a symlink out of the root is reported, not followed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ls-validate-'));
    dirs.push(root);
    cpSync(join(FIXTURES, 'clean-reviewed'), root, { recursive: true });
    symlinkSync('/etc', join(root, 'loop_station/sessions/session_001/runs'));
    const { snapshot } = await readLoopFolder(root);
    expect(snapshot['loop_station/sessions/session_001/runs']).toMatchObject({ kind: 'symlink', symlinkEscapes: true });
    const r = await validateCommand({ dir: root });
    expect(r.findings.map((f) => `${f.code} ${f.file}`)).toEqual([
      'PATH_ESCAPES_ROOT loop_station/sessions/session_001/runs',
    ]);
  });

  test('the reader hashes raw bytes and keeps variant copies as hashes only', async () => {
    const { snapshot } = await readLoopFolder(join(FIXTURES, 'clean-reviewed'));
    const copy = snapshot['loop_station/code_variants/session_000/baseline/files/model.py']!;
    expect([copy.content, copy.sha256]).toEqual([
      undefined,
      createHash('sha256').update('channels = 32\n').digest('hex'),
    ]);
    expect(
      snapshot['loop_station/contract.json']!.content!.startsWith('{\n  "protocol_version": "loop-station/1"'),
    ).toBe(true);
  });
});
