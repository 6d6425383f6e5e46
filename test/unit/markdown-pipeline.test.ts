import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { finishLoop } from '../../activities/artifacts.js';
import { inspectReview } from '../../activities/session-steps.js';
import { readReportFiles } from '../../cli/commands/report.js';
import { sectionBody } from '../../protocol/markdown.js';
import { buildReportData } from '../../protocol/report/data.js';
import { renderReportHtml } from '../../protocol/report/html.js';
import { renderReportMarkdown } from '../../protocol/report/md.js';
import type { SessionRecord } from '../../protocol/schemas/state.js';
import { toySpec } from '../helpers/loops.js';
import { testdir } from '../helpers/testdir.js';

/**
 * A review with a fenced code block, nested lists, a table, links (one `javascript:`) and HTML tags,
 * followed from the file the reviewer wrote to FINAL_SUMMARY.md and the HTML and Markdown reports.
 */

const REVIEW = await readFile(new URL('../fixtures/markdown/review-rich.md', import.meta.url), 'utf8');
const REVIEW_PATH = 'loop_station/reviews/session_001/CLAUDE-SESSION001-REVIEWER-DONE.md';

async function finishedLoop(): Promise<string> {
  const root = await testdir({ [REVIEW_PATH]: REVIEW });
  const inspected = await inspectReview({ root, session: 1, token: 'CLAUDE', exitedOk: true, reason: null });
  const config = toySpec(root, 'unused');
  const record: SessionRecord = {
    session: 1,
    startedAt: '2026-11-24T10:00:00.000Z',
    closedAt: '2026-11-24T10:30:00.000Z',
    executor: {
      token: 'TOY_EXEC',
      status: 'DONE',
      reason: null,
      axis: 'width',
      durationMs: 1000,
      tokensIn: 0,
      tokensOut: 0,
      costUsd: 0,
      digest: '',
    },
    evidence: null,
    reviews: [{ agent: 'CLAUDE', required: true, outcome: 'done', counted: true, ...inspected.review }],
    records: [],
    interventions: [],
    variant: 'loop_station/code_variants/session_001/candidate',
    decision: {
      class: 'promote',
      session: 1,
      metric: 'score',
      value: 2,
      best_session: 1,
      best_value: 2,
      axis: 'width',
      next_axis: null,
      protection: 'pass',
      reviews: [],
      approval: 'none',
      on_approve: null,
      on_deny: null,
      stop_reason: null,
      source: 'builtin',
      reason: 'rule 5',
      next: null,
    },
  };
  await finishLoop({
    config,
    workflowId: 'loop-toy',
    stopReason: 'budget_sessions',
    stoppedAt: '2026-11-24T10:31:00.000Z',
    best: {
      session: 1,
      value: 2,
      metrics: {},
      axis: 'width',
      variant: 'loop_station/code_variants/session_001/candidate',
    },
    baseline: 1,
    usage: { tokensIn: 0, tokensOut: 0, costUsd: 0 },
    elapsedMs: 1000,
    sessionsUsed: 1,
    interventions: [],
    recent: [record],
  });
  return root;
}

describe("a review's Markdown, from its file to the final summary and the report", () => {
  test('FINAL_SUMMARY.md quotes the risks whole inside their bullet: list, nesting, code, table, a link that still leads to the log; HTML inert', async () => {
    const root = await finishedLoop();
    const summary = await readFile(join(root, 'loop_station/FINAL_SUMMARY.md'), 'utf8');
    expect(sectionBody(summary, 'Unvalidated Generalization Risks')).toBe(
      [
        '- CLAUDE:',
        '',
        '  Two risks, in order:',
        '',
        '  1. single seed: the gain may be noise',
        '     - seeds 1–3 not run',
        '       - nor the held-out set',
        '  2. the evaluator &lt;script>alert(1)&lt;/script> reads &lt;img src=x onerror=alert(1)>',
        '',
        '  ```python',
        '  ## not a heading: inside the fence',
        '  if psnr < best: <b>retire</b>',
        '  ```',
        '',
        '  | seed | psnr |',
        '  | --- | --- |',
        '  | 1 | 28.1 |',
        '',
        '  See [the log](sessions/session_001/runs/eval.log), not this' +
          ' (link removed: javascript: links are not followed).',
      ].join('\n'),
    );
  });

  test('the HTML report shows that list, code and table as such, the link resolved, and no live tag or script link', async () => {
    const root = await finishedLoop();
    const html = renderReportHtml(buildReportData(await readReportFiles(root)), { hrefBase: '..' });
    const risks =
      /<h3>Unvalidated Generalization Risks<\/h3>([^]*?)<\/div>\n<div class="final-section">|<h3>Unvalidated Generalization Risks<\/h3>([^]*?)<\/section>/.exec(
        html,
      )!;
    const section = risks[1] ?? risks[2]!;
    expect(section).toContain(
      '<ol>\n<li>single seed: the gain may be noise\n<ul>\n<li>seeds 1–3 not run\n<ul>\n<li>nor the held-out set</li>',
    );
    expect(section).toContain(
      '<pre><code class="language-python">## not a heading: inside the fence\nif psnr &lt; best: &lt;b&gt;retire&lt;/b&gt;\n</code></pre>',
    );
    expect(section).toContain('<td>28.1</td>');
    expect(section).toContain(
      '<a href="../loop_station/sessions/session_001/runs/eval.log">the log</a>, not this' +
        ' (link removed: javascript: links are not followed).',
    );
    expect(html).not.toMatch(/<script|<img|<b>|href="javascript:/i);
  });

  test('the Markdown report copies the section as written, its link re-based to the report, HTML still inert', async () => {
    const root = await finishedLoop();
    const md = renderReportMarkdown(buildReportData(await readReportFiles(root)), { hrefBase: '..' });
    const section = md.slice(
      md.indexOf('### Unvalidated Generalization Risks'),
      md.indexOf('### Interventions') > 0 ? md.indexOf('### Interventions') : md.indexOf('\n---\n'),
    );
    expect(section).toContain(
      '  ```python\n  ## not a heading: inside the fence\n  if psnr < best: <b>retire</b>\n  ```',
    );
    expect(section).toContain(
      '  See [the log](../loop_station/sessions/session_001/runs/eval.log), not this' +
        ' (link removed: javascript: links are not followed).',
    );
    expect(section).toContain('&lt;script>alert(1)&lt;/script>');
  });
});
