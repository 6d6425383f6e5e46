import { rm } from 'node:fs/promises';
import { afterAll, expect, test } from 'vitest';
import { readReportFiles } from '../../cli/commands/report.js';
import { reportFixture } from '../../test/helpers/report-fixture.js';
import { buildReportData } from './data.js';
import { renderReportMarkdown, sparkline } from './md.js';
import { valueText } from './text.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function markdown(name: string): Promise<string> {
  const root = await reportFixture(name);
  roots.push(root);
  return renderReportMarkdown(buildReportData(await readReportFiles(root)), { hrefBase: '..' });
}

test('the Markdown report of a 12-session engine folder', async () => {
  await expect(await markdown('engine-denoise')).toMatchFileSnapshot('./__snapshots__/report-engine-denoise.md');
});

test('the Markdown report of an original-skill folder with values only in the ledger', async () => {
  await expect(await markdown('original-ledger')).toMatchFileSnapshot('./__snapshots__/report-original-ledger.md');
});

test('a sparkline has one character per value, scaled to the range, a dot where none', () => {
  expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇█');
  expect(sparkline([0, null, 10], [0, 20])).toBe('▁·▅');
  expect(sparkline([4, 4])).toBe('▄▄');
  expect(sparkline([null])).toBe('·');
});

test('hostile text cannot open HTML in a Markdown viewer', () => {
  const md = renderReportMarkdown(
    buildReportData({
      'loop_station/contract.json': JSON.stringify({
        loop_name: '<script>x</script>',
        goal: { summary: '<img src=x onerror=alert(1)>' },
      }),
    }),
    { hrefBase: '' },
  );
  expect(md).not.toMatch(/<script|<img/);
  expect(md.split('\n').slice(0, 3)).toEqual([
    '# &lt;script>x&lt;/script> — loop-station report',
    '',
    'goal: &lt;img src=x onerror=alert(1)>',
  ]);
});

test('a quoted file from a hand-run folder fetches and runs nothing in a Markdown viewer', () => {
  const md = renderReportMarkdown(
    buildReportData({
      'loop_station/FINAL_SUMMARY.md':
        '# Final Summary\n\n## Unvalidated Generalization Risks\n\n' +
        '- see ![beacon](https://tracker.example/p.png?loop=1) and [run](javascript:alert(1)); ![plot](sessions/p.png)\n',
    }),
    { hrefBase: '' },
  );
  expect(md).toContain(
    '- see [beacon](https://tracker.example/p.png?loop=1) and run (link removed: javascript: links are not followed); ' +
      '![plot](loop_station/sessions/p.png)',
  );
});

test('measured numbers read as people write them: float noise is rounded away, real digits kept', () => {
  expect([0.11499999999999999, 30.0242, 0.1 + 0.2, 1e-20, 123456.789].map(valueText)).toEqual([
    '0.115',
    '30.0242',
    '0.3',
    '1e-20',
    '123456.789',
  ]);
});
