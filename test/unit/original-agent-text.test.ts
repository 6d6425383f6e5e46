import { describe, expect, test } from 'vitest';
import { inspectExecutor, inspectReview } from '../../activities/session-steps.js';
import { EXECUTOR_PROPOSAL, REVIEW_FILE } from '../../protocol/artifact-sections.js';
import { parseFlagName } from '../../protocol/flag-name.js';
import {
  readAxis,
  readRecommendation,
  readRecommendationSection,
  readStatus,
  readVerdict,
  readVerdictSection,
} from '../../protocol/header-values.js';
import { missingParts, parseHeaderLines, titleKey } from '../../protocol/markdown.js';
import { checkBodyIdentity, parseFlagBody } from '../../protocol/schemas/flag-body.js';
import { toyRoot, toySpec } from '../helpers/loops.js';
import { testdir } from '../helpers/testdir.js';

/** What agents following the original LOOP-STATION templates write, as the engine must read it. */

const inspect = async (text: string) => {
  const root = await testdir({ 'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md': text });
  return (await inspectReview({ root, session: 1, token: 'REV', exitedOk: true, reason: null, env: [] })).review;
};

describe("a review's verdict and recommendation, wherever the template puts them", () => {
  test.for([
    [
      'the template: `- X: yes` items under ## Verdict and ## Promote / Keep / Retire',
      [
        '- status: DONE',
        '## Verdict',
        '- supported: no',
        '- unsupported: yes — the score gain is a metric leak, not an improvement',
        '- uncertain: no',
        '## Promote / Keep / Retire',
        '- promote: no',
        '- keep: no',
        '- retire: yes — retire the param-inflation axis',
      ],
      'unsupported',
      'retire',
    ],
    [
      'prose sections',
      [
        '## Verdict',
        '**UNSUPPORTED** — the improvement is within noise…',
        '## Promote/Keep/Retire',
        'Retire. I recommend we retire this approach…',
      ],
      'unsupported',
      'retire',
    ],
    [
      'bold keys in a leading section',
      ['# Review', '## Summary', '- **Verdict:** Unsupported', '- **Recommendation:** Retire'],
      'unsupported',
      'retire',
    ],
    [
      'a table with one row',
      [
        '# Review session 004',
        '',
        '| agent | session | status | verdict | recommendation |',
        '|---|---|---|---|---|',
        '| REV | 004 | DONE | unsupported | retire |',
        '',
        '## Verdict',
        'See table: unsupported.',
      ],
      'unsupported',
      'retire',
    ],
    [
      'header words outside the vocabulary',
      [
        'status: DONE',
        'verdict: Rejected — the gain is leakage',
        'recommendation: Do not promote; revert to the best',
        '## Verdict',
        'see header',
      ],
      'unsupported',
      'return_to_best',
    ],
    [
      'a header verdict wins over the section; a checklist answers too',
      [
        'verdict: supported',
        '## Verdict',
        '- [ ] supported',
        '- [x] unsupported',
        '## Promote / Keep / Retire',
        '- [x] keep',
      ],
      'supported',
      'keep',
    ],
  ] as const)('%s', async ([, lines, verdict, recommendation]) => {
    const review = await inspect(lines.join('\n'));
    expect([review.verdict, review.recommendation, review.unreadable]).toEqual([verdict, recommendation, undefined]);
  });

  test('a verdict found nowhere is uncertain and marked unreadable; so is a recommendation written and not read', async () => {
    const template = await inspect(
      [
        'status: DONE',
        '## Verdict',
        '- supported:',
        '- unsupported:',
        '- uncertain:',
        '## Promote / Keep / Retire',
        '- promote: maybe',
      ].join('\n'),
    );
    expect([template.verdict, template.recommendation, template.unreadable]).toEqual([
      'uncertain',
      null,
      ['verdict', 'recommendation'],
    ]);
    const none = await inspect('status: DONE\n## Evidence Checked\nmetrics.json\n');
    expect([none.verdict, none.recommendation, none.unreadable]).toEqual(['uncertain', null, ['verdict']]);
  });

  test.for([
    ['Rejected — the gain is leakage', 'unsupported'],
    ['refuted', 'unsupported'],
    ['Not supported by the logs', 'unsupported'],
    ['Inconclusive', 'uncertain'],
    ['partially supported', undefined],
  ] as const)('verdict %j reads %j', ([text, verdict]) => {
    expect(readVerdict(text)).toBe(verdict);
  });

  test.for([
    ['I recommend we retire this approach — the gain is leakage', 'retire'],
    ['Do not promote; revert to the best', 'return_to_best'],
    ["Don't promote.", 'return_to_best'],
    ['We should go back to the best and pivot', 'return_to_best'],
    ['Promote it', 'promote'],
    ['no idea', undefined],
  ] as const)('recommendation %j reads %j', ([text, recommendation]) => {
    expect(readRecommendation(text)).toBe(recommendation);
  });

  test('section readers: a list answered no to all is no answer, not a word of its keys', () => {
    expect(readVerdictSection('- supported: no\n- unsupported: no\n- uncertain: no')).toBeUndefined();
    expect(readVerdictSection('The claim is not supported: the gain is noise.')).toBe('unsupported');
    expect(readRecommendationSection('- promote: no\n- keep: ✅\n- retire: no')).toBe('keep');
    expect(readRecommendationSection('- promote: no\n- keep: no\n- retire: no')).toBeUndefined();
  });
});

describe("an executor report's status, wherever and however it is written", () => {
  const report = (head: string[]) =>
    [...head, '', '## What Ran', '- commands: python3 eval.py', '## Results', 'none'].join('\n');
  const proposal = ['agent: EXEC', 'session: 001', ...EXECUTOR_PROPOSAL.sections.map((t) => `## ${t}\ntext`)].join(
    '\n',
  );
  const executor = async (head: string[]) => {
    const root = await toyRoot({
      'loop_station/sessions/session_001/executor_report.md': report(head),
      'loop_station/sessions/session_001/executor_proposal.md': proposal,
    });
    return inspectExecutor({
      config: toySpec(root, 'q', { protected: [] }),
      session: 1,
      createdAt: '2026-12-07T00:10:00Z',
    });
  };

  test.for([
    [
      [
        '# Executor Report — session 001',
        '## Session Info',
        '- agent: EXEC',
        '- session: 001',
        '- status: BLOCKED',
        '- blocker: the evaluation crashed (CUDA OOM) before any variant finished',
      ],
      'executor report says BLOCKED: the evaluation crashed (CUDA OOM) before any variant finished',
    ],
    [
      ['status: not done — blocked on GPU (evaluation never ran)'],
      'executor report says not done — blocked on GPU (evaluation never ran)',
    ],
    [['- status: ⚠️ not done — blocked on GPU'], 'executor report says ⚠️ not done — blocked on GPU'],
    [
      ['- **Status**: Incomplete — evidence missing, the run crashed'],
      'executor report says Incomplete — evidence missing, the run crashed',
    ],
    [
      ['- status: PARTIAL (2 of 3 variants ran; evidence for C missing)'],
      'executor report says PARTIAL (2 of 3 variants ran; evidence for C missing)',
    ],
  ] as const)('%j is not DONE', async ([head, reason]) => {
    const inspected = await executor([...head]);
    expect([inspected.gate, inspected.reportStatus]).toEqual([{ ok: false, reason }, 'BLOCKED']);
  });

  test.for([
    ['not done — blocked on GPU (evaluation never ran)', 'BLOCKED', 'blocked on GPU (evaluation never ran)'],
    ['PARTIAL (2 of 3 variants ran; evidence for C missing)', 'BLOCKED', '2 of 3 variants ran; evidence for C missing'],
    ['Failed: OOM', 'BLOCKED', 'OOM'],
    ['DONE (review complete, summaries skipped)', 'DONE', 'review complete, summaries skipped'],
    ['Completed', 'DONE', ''],
  ] as const)('status %j reads %j', ([text, status, rest]) => {
    expect(readStatus(text)).toEqual({ status, rest });
  });

  test('a status or an axis the engine cannot read is said in the self-review, not silently taken', async () => {
    const inspected = await executor(['status: Maybe', 'axis: ???']);
    expect([inspected.gate.ok, inspected.axis, inspected.unreadable]).toEqual([
      true,
      'default',
      [
        'executor_report.md: status `Maybe` is not DONE, BLOCKED or ABSTAIN; read as DONE',
        'executor_report.md: axis `???` cannot be read; the session counts on axis default',
      ],
    ]);
    const korean = await executor(['status: DONE', 'axis: 노이즈 필터']);
    expect([korean.gate.ok, korean.axis, korean.unreadable]).toEqual([true, '노이즈-필터', []]);
  });
});

test('axis keys: any script, `/`, `&` and `+` as `-`; ASCII keys as before', () => {
  expect(
    ['노이즈 필터', 'kernel/stride', 'lr & warmup', 'a + b', 'Learning Rate', 'LR (warmup)', 'x_y.z'].map(readAxis),
  ).toEqual(['노이즈-필터', 'kernel-stride', 'lr-warmup', 'a-b', 'learning-rate', 'lr', 'x_y.z']);
  // NFC: a decomposed Hangul name keys as the composed one.
  expect(readAxis('노이즈 필터'.normalize('NFD'))).toBe('노이즈-필터');
  expect([readAxis(''), readAxis('???'), readAxis('a'.repeat(65))]).toEqual([undefined, undefined, undefined]);
});

describe('flag bodies are read for the word they say', () => {
  const flag = parseFlagName('OUT-SESSION001-REVIEWER-DONE.flag')!;
  const mismatch = (body: string) => checkBodyIdentity(flag, parseFlagBody(body).fields).map((m) => m.field);
  test.for([
    'status: DONE (review complete, summaries skipped)',
    'producer: OUT (Claude Code reviewer)\nstatus: DONE — review complete',
    'producer: `OUT`\nrole: REVIEWER (external)\nstatus: **done**',
  ])('%j matches its name', (body) => {
    expect(mismatch(body)).toEqual([]);
  });
  test('another status or producer is still a mismatch', () => {
    expect(mismatch('status: BLOCKED — no GPU')).toEqual(['status']);
    expect(mismatch('status: not done')).toEqual(['status']);
    expect(mismatch('producer: CODEX (reviewer)')).toEqual(['producer']);
    expect(mismatch('producer: OUTSIDER')).toEqual(['producer']);
  });
});

describe("the original templates' headings and headers satisfy the engine's", () => {
  test('spacing around `/` does not count in a title, and model/version is model', () => {
    expect(titleKey('Metric / Log Analysis')).toBe(titleKey('Metric/Log Analysis'));
    const original = [
      '# Reviewer Report',
      '- agent: REV',
      '- model/version: claude-opus-4',
      '- instruction profile: scientific reviewer',
      '- role: `REVIEWER`',
      '- session: 001',
      '- status: DONE',
      '- blocked_reason: none',
      ...REVIEW_FILE.sections.map((t) => `## ${t.replace('/', ' / ')}\n- x: y`),
      '## Verdict',
    ].join('\n');
    expect(missingParts(original, REVIEW_FILE)).toEqual(['header verdict', 'header recommendation']);
  });

  test('header lines under a leading heading; keys after it do not replace those before', () => {
    expect(
      parseHeaderLines('# R\nstatus: DONE\n## Info\n- status: BLOCKED\n- **Axis**: lr\n## Results\n- verdict: x\n'),
    ).toEqual({
      status: 'DONE',
      axis: 'lr',
    });
  });
});
