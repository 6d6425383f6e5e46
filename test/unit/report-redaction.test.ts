import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readReportFiles, reportCommand } from '../../cli/commands/report.js';
import type { Output } from '../../cli/output.js';
import { testdir } from '../helpers/testdir.js';

/** `loop-station report` on a folder whose agents wrote credentials into their files: the report holds none. */

// Built from parts, so no scanner takes them for live keys.
const FOUND = {
  openai: ['sk-proj-', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij'].join(''),
  github: ['ghp_', '16C7e42F292c6912E7710c838347Ae178B4a'].join(''),
  huggingFace: ['hf_', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'].join(''),
  anthropic: ['sk-ant-', 'api03-AbCdEfGhIjKlMnOpQrSt'].join(''),
};

const quiet: Output = { json: false, color: false, data: () => {}, json_: () => {}, log: () => {} };

const leakyLoop = () =>
  testdir({
    'loop_station/contract.json': JSON.stringify({
      loop_name: 'leaky',
      goal: { summary: 'g' },
      evidence: { metric: 'score', direction: 'maximize' },
    }),
    'loop_station/sessions/session_001/executor_report.md': `agent: X\nsession: 001\n\n## Results\nthe key ${FOUND.openai} in config.py is exposed\n`,
    'loop_station/sessions/session_001/decision.md': `# Decision\n\n\`\`\`loop-station-decision\nclass: keep\nsession: 001\nvalue: 1\nreason: ${FOUND.huggingFace} leaked\n\`\`\`\n`,
    'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md': `agent: REV\nverdict: ok\nrecommendation: revoke ${FOUND.github}\n\n## Risks Or Confounds\nsaw postgres://ada:hunter2-horse@db:5432/x\n`,
    'loop_station/FINAL_SUMMARY.md': `# Final summary\n\n## Findings\nThe reviewer found ${FOUND.anthropic} in a log.\n`,
  });

describe('the report of a folder whose agents wrote credentials', () => {
  test('the files it reads hold markers where the credentials were', async () => {
    const files = await readReportFiles(await leakyLoop());
    expect(files['loop_station/sessions/session_001/executor_report.md']).toContain(
      'the key [redacted: an OpenAI API key] in config.py is exposed',
    );
    expect(files['loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md']).toContain(
      'saw postgres://ada:[redacted: a password in a URL]@db:5432/x',
    );
  });

  test.for(['html', 'md'] as const)('the %s report shows none of them', async (format) => {
    const root = await leakyLoop();
    const result = await reportCommand({ target: root, format }, quiet, { quiet: true });
    const report = await readFile(result.path, 'utf8');
    expect(result.path).toBe(join(root, `loop_station/report.${format}`));
    for (const [name, secret] of Object.entries({ ...FOUND, password: 'hunter2-horse' }))
      expect([name, report.includes(secret)]).toEqual([name, false]);
    expect(report).toContain('The reviewer found [redacted: an Anthropic API key] in a log.');
    if (format === 'html') expect(report).toContain('[redacted: a Hugging Face token] leaked');
  });
});
