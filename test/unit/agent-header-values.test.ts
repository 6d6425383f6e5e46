import { describe, expect, test } from 'vitest';
import { inspectExecutor, inspectReview } from '../../activities/session-steps.js';
import { EXECUTOR_PROPOSAL, EXECUTOR_REPORT } from '../../protocol/artifact-sections.js';
import { readAxis, readRecommendation, readStatus, readVerdict } from '../../protocol/header-values.js';
import { parseSections, sectionBody } from '../../protocol/markdown.js';
import { toyRoot, toySpec } from '../helpers/loops.js';
import { testdir } from '../helpers/testdir.js';

/** Header values and sections as models write them: the word they mean is read, not lost to decoration. */

describe('header values', () => {
  test.for([
    ['unsupported.', 'unsupported'],
    ['**Unsupported**', 'unsupported'],
    ['not supported', 'unsupported'],
    ['Unsupported (gain is within noise)', 'unsupported'],
    ['unsupported ❌', 'unsupported'],
    ['unsupported — the gain is noise', 'unsupported'],
    ['SUPPORTED.', 'supported'],
    ['`supported`', 'supported'],
    ['Uncertain', 'uncertain'],
    ['partially supported', undefined],
    ['', undefined],
  ] as const)('verdict %j reads %j', ([text, verdict]) => {
    expect(readVerdict(text)).toBe(verdict);
  });

  test.for([
    ['retire.', 'retire'],
    ['**retire**', 'retire'],
    ['Return to best', 'return_to_best'],
    ['return-to-best', 'return_to_best'],
    ['promote (strong)', 'promote'],
    ['needs more evidence', 'needs_more_evidence'],
    ['Retire ❌', 'retire'],
    ['no idea', undefined],
  ] as const)('recommendation %j reads %j', ([text, recommendation]) => {
    expect(readRecommendation(text)).toBe(recommendation);
  });

  test.for([
    ['DONE', 'DONE', ''],
    ['Blocked — eval.py crashed', 'BLOCKED', 'eval.py crashed'],
    ['FAILED', 'BLOCKED', ''],
    ['ABSTAIN - no viable idea', 'ABSTAIN', 'no viable idea'],
    ['**ABSTAIN**', 'ABSTAIN', ''],
    ['ABSTAIN (no viable direction)', 'ABSTAIN', 'no viable direction'],
    ['done ✅', 'DONE', ''],
  ] as const)('status %j reads %j', ([text, status, rest]) => {
    expect(readStatus(text)).toEqual({ status, rest });
  });

  test('axes are keyed the same however they are written', () => {
    expect(['Learning Rate', 'learning-rate', '`learning rate`', 'Learning Rate (warmup)'].map(readAxis)).toEqual(
      Array(4).fill('learning-rate'),
    );
    expect([readAxis('LR'), readAxis('lr'), readAxis(''), readAxis('a/b')]).toEqual(['lr', 'lr', undefined, 'a-b']);
  });
});

describe('sections', () => {
  test('### sections under a # title, numbered titles and trailing colons are the sections they name', () => {
    const md = '# Report\nstatus: DONE\n\n### 1. What Ran:\nran\n#### detail\nx\n### **Results**\ny = 2\n';
    expect(parseSections(md).map((s) => s.title)).toEqual(['1. What Ran:', '**Results**']);
    expect([sectionBody(md, 'What Ran'), sectionBody(md, 'results')]).toEqual(['ran\n#### detail\nx', 'y = 2']);
    // With ## sections, ### stays inside them; a word that looks like a numeral is kept.
    const two = '## Results\na\n### Civil results\nb\n## 11. Recommended Next Action\nc\n';
    expect(parseSections(two).map((s) => s.title)).toEqual(['Results', '11. Recommended Next Action']);
    expect(sectionBody(two, 'Recommended Next Action')).toBe('c');
  });
});

describe('the engine reads what the agents meant', () => {
  const review = (header: string[]) =>
    testdir({
      'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md': [
        'agent: REV',
        'session: 001',
        ...header,
        '',
        '## 10. Risks Or Confounds:',
        'single seed',
        '## 11. Recommended Next Action:',
        'rerun with three seeds',
        '',
      ].join('\n'),
    });
  const inspect = (root: string) =>
    inspectReview({ root, session: 1, token: 'REV', exitedOk: true, reason: null, env: [] });

  test("a reviewer's veto with decoration is a veto, and its numbered sections are read", async () => {
    const inspected = await inspect(
      await review(['status: DONE', 'verdict: Unsupported (gain is within noise)', 'recommendation: Return to best']),
    );
    expect(inspected.status).toBe('DONE');
    expect(inspected.review).toMatchObject({
      verdict: 'unsupported',
      recommendation: 'return_to_best',
      risks: 'single seed',
      nextAction: 'rerun with three seeds',
    });
  });

  test('a review whose status says Blocked with its reason is BLOCKED', async () => {
    const inspected = await inspect(await review(['status: Blocked — eval.py crashed', 'verdict: uncertain']));
    expect([inspected.status, inspected.reason, inspected.review.file]).toEqual([
      'BLOCKED',
      'review says BLOCKED: eval.py crashed',
      'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-BLOCKED.md',
    ]);
  });

  const report = (status: string, axis: string) =>
    [
      '# Executor Report — session 001',
      'agent: TOY_EXEC',
      'session: 001',
      `status: ${status}`,
      `axis: ${axis}`,
      'started_at: 2026-12-07T00:00:00Z',
      'finished_at: 2026-12-07T00:10:00Z',
      '',
      ...EXECUTOR_REPORT.sections.flatMap((title, i) => [`### ${i + 1}. ${title}:`, 'text', '']),
    ].join('\n');
  const proposal = [
    'agent: TOY_EXEC',
    'session: 001',
    'proposed_next_session: 2',
    'proposed_axis: lr',
    '',
    ...EXECUTOR_PROPOSAL.sections.flatMap((t) => [`## ${t}:`, 'text']),
  ].join('\n');
  const executor = async (status: string, axis: string) => {
    const root = await toyRoot({
      'loop_station/sessions/session_001/executor_report.md': report(status, axis),
      'loop_station/sessions/session_001/executor_proposal.md': proposal,
    });
    return inspectExecutor({
      config: toySpec(root, 'q', { protected: [] }),
      session: 1,
      createdAt: '2026-12-07T00:10:00Z',
    });
  };

  test('an executor report that says FAILED blocks the session; ABSTAIN with a reason abstains; the axis is keyed', async () => {
    const failed = await executor('FAILED', 'Learning Rate');
    expect(failed.gate).toEqual({ ok: false, reason: 'executor report says FAILED' });
    expect([failed.axis, failed.missingParts]).toEqual(['learning-rate', []]);
    const abstained = await executor('ABSTAIN - no viable idea', '`lr` (warmup)');
    expect([abstained.gate.ok, abstained.reportStatus, abstained.axis]).toEqual([true, 'ABSTAIN', 'lr']);
  });
});
