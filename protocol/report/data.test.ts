import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readReportFiles } from '../../cli/commands/report.js';
import { reportFixture } from '../../test/helpers/report-fixture.js';
import { buildReportData } from './data.js';
import type { ReportData } from './model.js';
import { decisionRow, metricFromCell } from './sources.js';
import { bytesToBase64, imageInfo } from './images.js';

const roots: string[] = [];
async function fixtureData(name: string): Promise<ReportData> {
  const root = await reportFixture(name);
  roots.push(root);
  return buildReportData(await readReportFiles(root));
}
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

const column = <K extends keyof ReportData['sessions'][number]>(data: ReportData, key: K) =>
  data.sessions.map((s) => s[key]);

describe('buildReportData: a held decision and its answer', () => {
  const held = (n: number) =>
    [
      '```loop-station-decision',
      'class: promote',
      `session: ${String(n).padStart(3, '0')}`,
      'approval: pending',
      'on_approve: promote',
      'on_deny: keep',
      'reason: rule 5: 2 beats best 1; promote is listed in askBefore: waiting for approval',
      '```',
      '',
    ].join('\n');
  test("the ledger's approve-as and deny show what the decision did, beside what it asked", () => {
    const data = buildReportData({
      'loop_station/leaderboard.csv': [
        'session,timestamp,axis,class,metric,value,protection,best_session,best_value,reviews,variant',
        '000,2026-01-01T00:00:00.000Z,,baseline,m,1,pass,000,1,,v',
        '001,2026-01-01T00:01:00.000Z,x,promote,m,2,pass,000,1,,v',
        '002,2026-01-01T00:02:00.000Z,x,promote,m,3,pass,000,1,,v',
        '003,2026-01-01T00:03:00.000Z,x,promote,m,4,pass,000,1,,v',
        '',
      ].join('\n'),
      'loop_station/sessions/session_001/decision.md': held(1),
      'loop_station/sessions/session_002/decision.md': held(2),
      'loop_station/sessions/session_003/decision.md': held(3),
      'loop_station/summaries/SESSION_LEDGER.md': [
        '# Session Ledger',
        '',
        '## Interventions',
        '',
        '- 2026-01-01T00:01:30.000Z session 001 approve (update by me@host): session 1 as retire: not this axis',
        '- 2026-01-01T00:02:30.000Z session 002 deny (update by me@host): session 2',
        '- 2026-01-01T00:03:30.000Z session 003 approve (update by me@host): session 3',
        '',
      ].join('\n'),
    });
    expect(data.sessions.map((s) => [s.session, s.decision, s.answer])).toEqual([
      [0, 'baseline', null],
      [1, 'promote', '→ retire (approved)'],
      [2, 'promote', '→ keep (denied)'],
      [3, 'promote', '(approved)'],
    ]);
  });
  test("decision.md's row carries what each answer applies, so the answer needs no second parse", () => {
    expect(decisionRow(held(1), 1).held).toEqual({ class: 'promote', onApprove: 'promote', onDeny: 'keep' });
    expect(decisionRow(held(1).replace('approval: pending', 'approval: none'), 1).held).toBeNull();
  });
});

describe('buildReportData: an engine folder', () => {
  test('a leaderboard row with no session folder (an agent wrote it) is not shown, and said', async () => {
    const root = await reportFixture('engine-denoise');
    roots.push(root);
    const board = join(root, 'loop_station/leaderboard.csv');
    const row = '099,2026-12-07T00:00:00Z,x,promote,psnr,99.9,pass,099,99.9,REV:supported,-';
    await writeFile(board, `${await readFile(board, 'utf8')}${row}\n`);
    const data = buildReportData(await readReportFiles(root));
    expect(column(data, 'session')).not.toContain(99);
    expect(data.best?.value).not.toBe(99.9);
    expect(data.problems).toEqual(['leaderboard.csv: row 099 is past the last session folder: not shown']);
  });

  test('reads every leaderboard row, the best, the baseline, the stop and the budget', async () => {
    const data = await fixtureData('engine-denoise');
    expect(column(data, 'session')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(column(data, 'decision')).toEqual([
      'baseline',
      'promote',
      'promote',
      'keep',
      'keep',
      'promote',
      'keep',
      'pivot_axis',
      'keep',
      'promote',
      'keep',
      'return_to_best',
      'stop',
    ]);
    expect(column(data, 'bestValue').at(-1)).toBe(30.0242);
    expect({
      best: data.best,
      bestComputed: data.bestComputed,
      baseline: data.baseline,
      stop: data.stopReason,
      metric: data.metric,
      direction: data.direction,
    }).toEqual({
      best: { session: 9, value: 30.0242 },
      bestComputed: false,
      baseline: { value: 23.3111, protection: 'pass' },
      stop: 'budget_sessions',
      metric: 'psnr',
      direction: 'maximize',
    });
    expect(data.budget).toEqual([
      { label: 'sessions', used: '12', limit: '12' },
      { label: 'wall clock', used: '44s', limit: '20m' },
      { label: 'tokens', used: '0', limit: null },
      { label: 'cost (USD)', used: '0', limit: null },
    ]);
    expect(data.problems).toEqual([]);
  });

  test('links the artifacts that exist and reads reviewers, protection and the final summary', async () => {
    const data = await fixtureData('engine-denoise');
    const s9 = data.sessions.find((s) => s.session === 9)!;
    expect(s9.artifacts.map((a) => `${a.label} ${a.path}`)).toEqual([
      'report loop_station/sessions/session_009/executor_report.md',
      'decision loop_station/sessions/session_009/decision.md',
      'metrics loop_station/sessions/session_009/metrics.json',
      'review loop_station/reviews/session_009/SCRIPTED_REVIEWER-SESSION009-REVIEWER-DONE.md',
      'flags loop_station/sessions/session_009/review_flags.md',
    ]);
    expect(data.sessions.find((s) => s.session === 4)!.artifacts).toEqual([]);
    expect(s9.reviews).toEqual([{ agent: 'SCRIPTED_REVIEWER', verdict: 'supported' }]);
    expect(s9.reason).toBe('rule 5: 30.0242 beats best 29.8319 (session 005) by more than 0.05');
    expect(data.protection).toEqual({
      criteria: ['ssim >= 0.45'],
      best: { session: 9, checks: [{ criterion: 'ssim >= 0.45', value: 0.7934, pass: true }] },
      last: { session: 12, checks: [{ criterion: 'ssim >= 0.45', value: 0.7934, pass: true }] },
    });
    expect(data.interventions).toBe('- none');
    expect(data.finalSections.map((s) => s.title)).toEqual([
      'Strict Goal Winner',
      'Review-Artifact Winner',
      'Rejected But Informative Candidates',
      'Retired Directions',
      'Unvalidated Generalization Risks',
    ]);
  });

  test('pictures: first (baseline), best and last side by side, changing images first, identical ones marked', async () => {
    const data = await fixtureData('engine-denoise');
    expect(data.pictures!.columns).toEqual([
      { session: 0, roles: ['baseline'] },
      { session: 9, roles: ['best'] },
      { session: 12, roles: ['last'] },
    ]);
    expect(data.pictures!.rows.map((r) => [r.name, r.identical, r.cells.map((c) => c?.session)])).toEqual([
      ['denoised.png', false, [0, 9, 12]],
      ['strip.png', false, [0, 9, 12]],
      ['clean.png', true, [0, 9, 12]],
      ['noisy.png', true, [0, 9, 12]],
    ]);
    const img = data.pictures!.rows[0]!.cells[0]!;
    expect([
      img.path,
      img.mime,
      img.width,
      img.height,
      img.dataUri!.startsWith('data:image/png;base64,iVBORw0KGgo'),
    ]).toEqual(['loop_station/code_variants/session_000/baseline/evidence/denoised.png', 'image/png', 32, 32, true]);
  });

  test('an image over the embed limit is linked, not embedded', async () => {
    const root = await reportFixture('engine-denoise');
    roots.push(root);
    const data = buildReportData(await readReportFiles(root), { maxImageBytes: 10 });
    expect(data.pictures!.rows.flatMap((r) => r.cells).every((c) => c !== null && c.dataUri === null)).toBe(true);
  });
});

describe('buildReportData: folders of the original skill', () => {
  test('takes values from the ledger when there is no leaderboard and computes the best so far', async () => {
    const data = await fixtureData('original-ledger');
    expect(column(data, 'session')).toEqual([0, 1, 2, 3, 4]);
    expect(column(data, 'value')).toEqual([24.1, 25.3, 25.1, null, 26]);
    expect(column(data, 'decision')).toEqual(['baseline', 'promote', 'pivot_axis', 'needs_more_evidence', 'promote']);
    expect(column(data, 'axis')).toEqual([null, 'width', 'width', 'depth', 'depth']);
    expect(column(data, 'bestValue')).toEqual([24.1, 25.3, 25.3, 25.3, 26]);
    expect(column(data, 'reviews').at(-1)).toEqual([{ agent: 'REVIEWER_B', verdict: 'supported' }]);
    expect({
      metric: data.metric,
      best: data.best,
      computed: data.bestComputed,
      stop: data.stopReason,
      version: data.protocolVersion,
      directionRecorded: data.directionRecorded,
    }).toEqual({
      metric: 'psnr',
      best: { session: 4, value: 26 },
      computed: true,
      stop: null,
      version: null,
      directionRecorded: false,
    });
    expect(data.goal).toBe('Raise PSNR of the denoiser');
    expect(data.interventions).toBe('- session 002: the user asked to stop widening the network');
    expect(data.budget[0]).toEqual({ label: 'sessions', used: '4', limit: '50' });
    expect(data.pictures).toBeNull();
  });

  test('reads a root-level leaderboard by column names and honours minimize', async () => {
    const data = await fixtureData('original-leaderboard');
    expect(column(data, 'value')).toEqual([0.92, 0.85, 0.88, 0.81]);
    expect(column(data, 'bestValue')).toEqual([0.92, 0.85, 0.85, 0.81]);
    expect(column(data, 'decision')).toEqual(['baseline', 'promote', 'return_to_best', 'promote']);
    expect({ metric: data.metric, direction: data.direction, best: data.best, stop: data.stopReason }).toEqual({
      metric: 'loss',
      direction: 'minimize',
      best: { session: 3, value: 0.81 },
      stop: 'user_stop',
    });
    expect(data.problems).toEqual(['leaderboard.csv does not have the engine header: read by column names']);
    expect(data.protection.best).toEqual({
      session: 3,
      checks: [{ criterion: 'accuracy >= 0.9', value: 0.93, pass: true }],
    });
    expect(data.interventions).toBe('- session 003: stopped by the user after the cosine schedule');
    expect(data.sources).toEqual(['loop_station/contract.json', 'loop_station/FINAL_SUMMARY.md', 'leaderboard.csv']);
  });
});

describe('buildReportData: broken or missing pieces', () => {
  test('an empty folder gives an empty model', () => {
    const data = buildReportData({});
    expect(data).toMatchObject({
      sessions: [],
      best: null,
      baseline: null,
      metric: null,
      goal: null,
      stopReason: null,
      pictures: null,
      interventions: null,
      finalSections: [],
      problems: [],
    });
    expect(data.budget.every((b) => b.used === null && b.limit === null)).toBe(true);
  });

  test('malformed files are read around, never thrown on', () => {
    const data = buildReportData({
      'loop_station/contract.json': '{ not json',
      'loop_station/leaderboard.csv':
        'session,timestamp,axis,class,metric,value,protection,best_session,best_value,reviews,variant\n001,t,,promote,psnr,abc,pass,001,1,,\n',
      'loop_station/sessions/session_001/metrics.json': '[1, 2',
      'loop_station/sessions/session_001/decision.md': 'no block here',
      'loop_station/sessions/session_002/decision.md': '```loop-station-decision\nclass: keep\nvalue: 7.5\n```\n',
      'loop_station/sessions/session_002/evidence/broken.png': new Uint8Array([1, 2, 3]),
      'loop_station/FINAL_SUMMARY.md': '',
    });
    expect(data.problems).toEqual([
      'contract.json is not a JSON object: goal and budget not recorded',
      'leaderboard.csv line 2: value: Invalid input: expected number, received undefined',
    ]);
    expect(data.sessions.map((s) => [s.session, s.decision, s.value])).toEqual([
      [1, null, null],
      [2, 'keep', 7.5],
    ]);
    expect(data.pictures!.rows[0]!.cells[0]).toMatchObject({
      name: 'broken.png',
      mime: 'image/png',
      width: null,
      dataUri: null,
    });
  });

  test('ledger cells give the named metric first, then any name=value, then a bare number', () => {
    expect(metricFromCell('loss=0.3, PSNR: 28.5 (protection pass)', 'psnr')).toEqual({ name: 'psnr', value: 28.5 });
    expect(metricFromCell('ssim=0.8 psnr=27', null)).toEqual({ name: 'ssim', value: 0.8 });
    expect(metricFromCell('31.2', null)).toEqual({ name: null, value: 31.2 });
    expect(metricFromCell('crashed', 'psnr')).toBeNull();
  });
});

describe('report images', () => {
  test('base64 matches the standard encoding, padding included', () => {
    for (const text of ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar', '\u00ff\u00fe\u0000']) {
      const bytes = new Uint8Array([...text].map((c) => c.charCodeAt(0)));
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
    const big = new Uint8Array(20_000).map((_, i) => (i * 7) % 256);
    expect(bytesToBase64(big)).toBe(Buffer.from(big).toString('base64'));
  });

  test('sizes come from PNG, GIF and JPEG headers; unrecognized bytes keep the extension type and are not embedded', () => {
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x10, 0x00, 0x20, 0x00]);
    const jpeg = new Uint8Array([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x30, 0x00, 0x40, 0x03,
    ]);
    expect(imageInfo(gif, 'a.gif')).toEqual({ mime: 'image/gif', recognized: true, width: 16, height: 32 });
    expect(imageInfo(jpeg, 'a.jpg')).toEqual({ mime: 'image/jpeg', recognized: true, width: 64, height: 48 });
    expect(imageInfo(new Uint8Array([1, 2]), 'x.webp')).toEqual({
      mime: 'image/webp',
      recognized: false,
      width: null,
      height: null,
    });
  });
});
