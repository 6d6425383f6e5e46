import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { readReportFiles } from '../../cli/commands/report.js';
import { reportFixture } from '../../test/helpers/report-fixture.js';
import { buildReportData } from './data.js';
import type { ReportFiles } from './model.js';
import { renderReportHtml } from './html.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

const HOSTILE = '<script>alert("x")</script>';
const hostileFiles: ReportFiles = {
  'loop_station/contract.json': JSON.stringify({
    loop_name: `</title>${HOSTILE}`,
    goal: { summary: `Raise it ${HOSTILE} & more`, protection_criteria: [`ssim >= 0.5 ${HOSTILE}`] },
    evidence: { metric: '<img src=x onerror=alert(1)>', direction: 'minimize', command: `node eval.mjs '${HOSTILE}'` },
    budget: { max_sessions: 3 },
  }),
  'loop_station/leaderboard.csv': [
    'session,timestamp,axis,class,metric,value,protection,best_session,best_value,reviews,variant',
    '000,2026-01-01T00:00:00.000Z,,baseline,m,5,pass,000,5,,v',
    `001,2026-01-01T00:01:00.000Z,"<svg onload=alert(1)>",keep,m,4,pass,001,4,"<b>EVIL:</b>supported",v`,
    '',
  ].join('\n'),
  'loop_station/sessions/session_001/decision.md': `\`\`\`loop-station-decision\nclass: keep\nreason: "><script>alert(2)</script>\n\`\`\`\n`,
  'loop_station/sessions/session_001/evidence/a"onerror="alert(1).png': new Uint8Array([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1,
  ]),
  'loop_station/reviews/session_001/"><img src=x>-SESSION001-REVIEWER-DONE.md': 'verdict: supported\n',
  'loop_station/FINAL_SUMMARY.md': `# Final Summary\n\nstop_reason: ${HOSTILE}\n\n## Strict Goal Winner\n\n- ${HOSTILE} \`<code>\` **<b>bold</b>**\n\n| a | b |\n| --- | --- |\n| <i>x</i> | y |\n`,
  'loop_station/summaries/SESSION_LEDGER.md': `# Session Ledger\n\n## Interventions\n\n- ${HOSTILE}\n`,
};

describe('renderReportHtml', () => {
  test('escapes hostile text from every file: no tags, attributes or scripts get through', () => {
    const html = renderReportHtml(buildReportData(hostileFiles), { hrefBase: '..' });
    expect(html).not.toMatch(/<script|<img src=x|<svg onload|<b>|<i>|onerror="|<code><code>/i);
    expect(html).toContain(
      '<title>&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; — loop-station report</title>',
    );
    expect(html).toContain('Raise it &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('<td>&lt;svg onload=alert(1)&gt;</td>');
    expect(html).toContain('title="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"');
    // The reason is shown under the decision too, escaped the same way.
    expect(html).toContain('<span class="muted why">&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;</span>');
    expect(html).toContain(
      'href="../loop_station/reviews/session_001/%22%3E%3Cimg%20src%3Dx%3E-SESSION001-REVIEWER-DONE.md"',
    );
    expect(html).toContain('<code>&lt;code&gt;</code> <strong>&lt;b&gt;bold&lt;/b&gt;</strong>');
  });

  test('is self-contained: a strict CSP, no scripts, images only as data URIs, links only relative', () => {
    const html = renderReportHtml(buildReportData(hostileFiles), { hrefBase: '..' });
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`,
    );
    const srcs = [...html.matchAll(/\ssrc="([^"]*)"/g)].map((m) => m[1]!);
    expect(srcs).toHaveLength(1);
    expect(srcs.every((s) => s.startsWith('data:image/png;base64,'))).toBe(true);
    const hrefs = [...html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(3);
    expect(hrefs.filter((h) => /^[a-z][a-z0-9+.-]*:|^\/\//i.test(h))).toEqual([]);
    expect(html.match(/https?:\/\/[^\s"']+/g)).toEqual(['http://www.w3.org/2000/svg']);
  });

  test('a 12-session engine folder gives 13 points, the best line ending at the best, and the sections', async () => {
    const root = await reportFixture('engine-denoise');
    roots.push(root);
    const html = renderReportHtml(buildReportData(await readReportFiles(root)), {
      hrefBase: '..',
      generatedAt: '2026-11-25T01:00:00.000Z',
    });
    expect(html.match(/<circle class="point /g)).toHaveLength(13);
    expect(html).toMatch(/<path class="best-line" data-last-value="30.0242"/);
    expect([...html.matchAll(/<section class="card" id="([a-z]+)"/g)].map((m) => m[1])).toEqual([
      'trend',
      'sessions',
      'protection',
      'pictures',
      'interventions',
      'final',
    ]);
    expect(html.match(/<img /g)).toHaveLength(8); // denoised and strip for 3 sessions, clean and noisy once
    expect(html).toContain('generated 2026-11-25T01:00:00.000Z');
  });

  test('missing pieces read "not recorded" instead of failing', () => {
    const html = renderReportHtml(buildReportData({}), { hrefBase: '' });
    expect(html).toContain('goal not recorded');
    expect(html).toContain('no sessions recorded');
    expect(html).toContain('no evidence images recorded');
    expect(html).toContain('no FINAL_SUMMARY.md');
    expect(html.match(/not recorded/g)!.length).toBeGreaterThan(5);
  });
});
