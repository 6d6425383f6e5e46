import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  type RemainingBudget,
  parseDecisionBlock,
  parseRemainingBudget,
  renderDecision,
  renderDecisionBlock,
} from './decision.js';
import { type DecisionBlock, DecisionBlockSchema } from './schemas/state.js';
import { DECISION_CLASSES, STOP_REASONS } from './vocabulary.js';

const BLOCK: DecisionBlock = {
  class: 'ask_user',
  session: 12,
  metric: 'psnr',
  value: 29.1,
  best_session: 12,
  best_value: 29.1,
  axis: 'width',
  next_axis: null,
  protection: 'pass',
  reviews: [
    { agent: 'CLAUDE', verdict: 'supported' },
    { agent: 'LINT', verdict: 'timeout' },
  ],
  approval: 'pending',
  on_approve: 'stop',
  on_deny: 'keep',
  stop_reason: null,
  source: 'builtin',
  reason: 'rule 5: 29.1 beats best 28.7; every success criterion holds',
  next: null,
};

describe('decision.md block (§6)', () => {
  test('renders keys in order with null for none', () => {
    expect(renderDecisionBlock(BLOCK)).toBe(
      [
        '```loop-station-decision',
        'class: ask_user',
        'session: 012',
        'metric: psnr',
        'value: 29.1',
        'best_session: 012',
        'best_value: 29.1',
        'axis: width',
        'next_axis: null',
        'protection: pass',
        'reviews: CLAUDE:supported LINT:timeout',
        'approval: pending',
        'on_approve: stop',
        'on_deny: keep',
        'stop_reason: null',
        'source: builtin',
        'reason: rule 5: 29.1 beats best 28.7; every success criterion holds',
        'next: null',
        '```',
      ].join('\n'),
    );
  });

  const blockArb: fc.Arbitrary<DecisionBlock> = fc
    .record({
      class: fc.constantFrom(...DECISION_CLASSES.filter((c) => c !== 'ask_user')),
      session: fc.nat({ max: 3000 }),
      metric: fc.option(fc.stringMatching(/^[a-z_]{1,8}$/), { nil: null }),
      // -0 is written `0`, as JSON would.
      value: fc.option(
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v)),
        { nil: null },
      ),
      best_session: fc.option(fc.nat({ max: 3000 }), { nil: null }),
      best_value: fc.option(fc.integer(), { nil: null }),
      axis: fc.option(fc.stringMatching(/^[a-z]{1,6}$/), { nil: null }),
      next_axis: fc.option(fc.stringMatching(/^[a-z]{1,6}$/), { nil: null }),
      protection: fc.constantFrom('pass', 'fail', 'unknown'),
      reviews: fc.array(
        fc.record({
          agent: fc.stringMatching(/^[A-Z]{1,6}$/),
          verdict: fc.constantFrom('supported', 'unsupported', 'uncertain', 'blocked', 'abstain', 'timeout', 'skipped'),
        }),
        { maxLength: 3 },
      ),
      approval: fc.constantFrom('none', 'pending'),
      on_approve: fc.option(fc.constantFrom(...DECISION_CLASSES), { nil: null }),
      on_deny: fc.option(fc.constantFrom(...DECISION_CLASSES), { nil: null }),
      stop_reason: fc.option(fc.constantFrom(...STOP_REASONS), { nil: null }),
      source: fc.constantFrom('builtin', 'agent', 'builtin-fallback', 'human'),
      reason: fc.option(
        fc.stringMatching(/^[a-z]([a-z :;.]{0,30}[a-z])?$/).filter((s) => !/ {2}/.test(s) && s !== 'null'),
        { nil: null },
      ),
      next: fc.option(fc.stringMatching(/^[A-Z]{1,6}$/), { nil: null }),
    })
    .map((b) => DecisionBlockSchema.parse(b));

  test('parse(render(block)) is the block', () => {
    fc.assert(
      fc.property(blockArb, (block) => {
        expect(parseDecisionBlock(`# Decision\n\n${renderDecisionBlock(block)}\n`, { session: block.session })).toEqual(
          { block, findings: [] },
        );
      }),
      { numRuns: 300 },
    );
  });

  const bad = (md: string, mode: 'engine' | 'original' = 'engine') =>
    parseDecisionBlock(md, { mode, session: 12 }).findings.map((f) => `${f.severity} ${f.code}: ${f.message}`);
  const text = renderDecisionBlock(BLOCK);

  test.for([
    ['no block', '# Decision\n', ['error DECISION_BLOCK_INVALID: decision.md has no ```loop-station-decision block']],
    [
      'a missing key',
      text.replace('protection: pass\n', ''),
      ['error DECISION_BLOCK_INVALID: decision block lacks protection'],
    ],
    [
      'keys out of order',
      text.replace('metric: psnr\nvalue: 29.1', 'value: 29.1\nmetric: psnr'),
      [
        'error DECISION_BLOCK_INVALID: decision block keys are out of order: class, session, value, metric, best_session, best_value, axis, next_axis, protection, reviews, approval, on_approve, on_deny, stop_reason, source, reason, next',
      ],
    ],
    [
      'an unknown class',
      text.replace('class: ask_user', 'class: celebrate'),
      [
        'error DECISION_BLOCK_INVALID: decision block class: Invalid option: expected one of "promote"|"keep"|"retire"|"return_to_best"|"pivot_axis"|"needs_more_evidence"|"needs_code_variant"|"stop"|"ask_user"',
      ],
    ],
    [
      'ask_user without on_deny',
      text.replace('on_deny: keep', 'on_deny: null'),
      ['error DECISION_BLOCK_INVALID: class ask_user needs on_approve and on_deny'],
    ],
    [
      'another session',
      text.replace('session: 012', 'session: 011'),
      ['error DECISION_BLOCK_INVALID: decision block says session 011 in session 012'],
    ],
    [
      'a line that is no key: value',
      text.replace('next: null', 'next null'),
      ['error DECISION_BLOCK_INVALID: decision block line "next null" is not `key: value`'],
    ],
  ] as const)('%s is DECISION_BLOCK_INVALID', ([, md, expected]) => {
    expect(bad(md)).toEqual(expected);
  });

  test("original folders: partial blocks default, the original's class names map to pivot_axis", () => {
    const md = '```loop-station-decision\nclass: retire_axis\nvalue: 26.1\nwhy: plateau\n```\n';
    const r = parseDecisionBlock(md, { mode: 'original', session: 12 });
    expect(r.findings.map((f) => `${f.severity} ${f.message}`)).toEqual([
      'warning decision block has unknown key why',
      "warning class retire_axis is the original's name; read as pivot_axis",
    ]);
    expect(r.block).toMatchObject({
      class: 'pivot_axis',
      session: 12,
      value: 26.1,
      protection: 'unknown',
      approval: 'none',
      source: 'agent',
      reviews: [],
    });
  });

  test.for([
    ['Promote', 'promote'],
    ['Return to best', 'return_to_best'],
    ['**keep**', 'keep'],
  ] as const)('original folders: class %s is read as %s, with a warning', ([written, read]) => {
    const r = parseDecisionBlock(`\`\`\`loop-station-decision\nclass: ${written}\n\`\`\`\n`, {
      mode: 'original',
      session: 3,
    });
    expect(r.findings.map((f) => `${f.severity} ${f.message}`)).toEqual([`warning class ${written} read as ${read}`]);
    expect(r.block?.class).toBe(read);
  });

  test('a ## Repair Decision block supersedes the first', () => {
    const repaired = `${text}\n\n## Repair Decision\n\n${renderDecisionBlock({ ...BLOCK, class: 'keep', approval: 'none', on_approve: null, on_deny: null })}\n`;
    expect(parseDecisionBlock(repaired, { session: 12 }).block?.class).toBe('keep');
  });
});

describe('renderDecision', () => {
  test('renders the block and every section, Human Interventions only when there are some', () => {
    const md = renderDecision({
      block: {
        ...BLOCK,
        class: 'pivot_axis',
        approval: 'none',
        on_approve: null,
        on_deny: null,
        next_axis: 'depth',
        next: 'CODEX',
      },
      judgment: 'width stalled for three sessions',
      remaining: { sessions: 38, wallClockMs: 5_400_000, tokens: null, costUsd: 41.5 },
      best: {
        session: 9,
        value: 28.7,
        metrics: { psnr: 28.7 },
        axis: 'width',
        variant: 'loop_station/code_variants/session_009/candidate',
      },
      axes: [{ name: 'width', plateau: 3, retired: true, retiredAtSession: 12, sessions: 7, bestValue: 28.7 }],
      plateauSessions: 3,
      interventions: [
        { at: '2026-11-24T11:00:00.000Z', kind: 'redirect', session: 12, note: 'try depth', via: 'update' },
      ],
    });
    expect(md).toMatchInlineSnapshot(`
      "# Decision — session 012

      \`\`\`loop-station-decision
      class: pivot_axis
      session: 012
      metric: psnr
      value: 29.1
      best_session: 012
      best_value: 29.1
      axis: width
      next_axis: depth
      protection: pass
      reviews: CLAUDE:supported LINT:timeout
      approval: none
      on_approve: null
      on_deny: null
      stop_reason: null
      source: builtin
      reason: rule 5: 29.1 beats best 28.7; every success criterion holds
      next: CODEX
      \`\`\`

      ## Integrated Judgment

      width stalled for three sessions

      - CLAUDE: supported
      - LINT: timeout

      ## Remaining Budget

      - sessions: 38
      - wall clock: 1h30m
      - tokens: unlimited
      - cost_usd: 41.5

      ## Best Known Candidate

      - session: 009
      - value: 28.7
      - axis: width
      - variant: loop_station/code_variants/session_009/candidate

      ## Retired Axes

      - width (retired at session 012, best measured 28.7)

      ## Pivot Decision

      axis width retired; next axis: depth

      ## Next Action

      pivot_axis: axis retired; workspace restored to the best; the executor picks a new axis

      next: CODEX

      ## Human Interventions

      - 2026-11-24T11:00:00.000Z session 012 redirect (update): try depth
      "
    `);
  });
});

describe('## Remaining Budget (read back by fork)', () => {
  const render = (remaining: RemainingBudget) =>
    renderDecision({
      block: BLOCK,
      judgment: '',
      remaining,
      best: null,
      axes: [],
      plateauSessions: 3,
      interventions: [],
    });
  const remainingArb: fc.Arbitrary<RemainingBudget> = fc.record({
    sessions: fc.nat(),
    wallClockMs: fc.option(fc.nat(), { nil: null }),
    tokens: fc.option(fc.nat(), { nil: null }),
    // -0 is written `0`.
    costUsd: fc.option(
      fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }).map((v) => Math.abs(v)),
      { nil: null },
    ),
  });

  test('parse(render(remaining)) is the remaining budget, unlimited as null', () => {
    fc.assert(
      fc.property(remainingArb, (remaining) => {
        expect(parseRemainingBudget(render(remaining))).toEqual({ remaining, problems: [] });
      }),
      { numRuns: 300 },
    );
  });

  const budget = render({ sessions: 38, wallClockMs: 5_400_000, tokens: null, costUsd: 41.5 });
  test.for([
    ['no section', '# Decision\n', ['it has no ## Remaining Budget section']],
    ['a missing line', budget.replace('- tokens: unlimited\n', ''), ['no "- tokens:" line']],
    [
      'unlimited sessions',
      budget.replace('- sessions: 38', '- sessions: unlimited'),
      ['sessions: "unlimited" is not a count'],
    ],
    [
      'unreadable values',
      budget.replace('- wall clock: 1h30m', '- wall clock: soon').replace('- cost_usd: 41.5', '- cost_usd: -2'),
      ['wall clock: "soon" is not a value or unlimited', 'cost_usd: "-2" is not a value or unlimited'],
    ],
  ] as const)('%s is listed, with no budget', ([, md, problems]) => {
    expect(parseRemainingBudget(md)).toEqual({ problems });
  });
});
