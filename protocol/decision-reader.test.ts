import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readAgentDecisionBlock, renderDecisionBlock } from './decision.js';
import type { DecisionBlock } from './schemas/state.js';
import { DECISION_CLASSES } from './vocabulary.js';

/** The built-in rules' block for session 5: what the engine fills missing keys from. */
const BUILTIN: DecisionBlock = {
  class: 'keep',
  session: 5,
  metric: 'psnr',
  value: 28.4,
  best_session: 3,
  best_value: 28.9,
  axis: 'kernel',
  next_axis: null,
  protection: 'pass',
  reviews: [{ agent: 'CLAUDE', verdict: 'uncertain' }],
  approval: 'none',
  on_approve: null,
  on_deny: null,
  stop_reason: null,
  source: 'builtin',
  reason: 'rule 7: 28.4 does not beat the best 28.9',
  next: null,
};
const state = { session: 5, builtin: BUILTIN };

const read = (text: string) => readAgentDecisionBlock(text, state);
const ok = (text: string) => {
  const r = read(text);
  if ('error' in r) throw new Error(`expected a block, got: ${r.error}`);
  return r;
};

describe("readAgentDecisionBlock: the agent's reason, never the built-in rules'", () => {
  test('without a reason key, the judgment section is the reason; its key lines are left out', () => {
    const r = ok(
      [
        '## Integrated Judgment',
        '- EXEC measured +1 score with param 2; the gain is a metric leak.',
        '- class: retire',
        '## Next Action',
        '- session 002: tune the window size',
      ].join('\n'),
    );
    expect(r.block).toMatchObject({
      class: 'retire',
      reason: 'EXEC measured +1 score with param 2; the gain is a metric leak.',
    });
    expect(r.filled).not.toContain('reason');
  });

  test.for([
    ['**Decision:** Return to best — the gain is within noise.', 'return_to_best', 'the gain is within noise.'],
    ['decision: keep (no gain over the best)', 'keep', 'no gain over the best'],
    ['- class: retire - the kernel axis regressed twice', 'retire', 'the kernel axis regressed twice'],
  ] as const)('the words after the class: %s', ([text, cls, reason]) => {
    expect(ok(text).block).toMatchObject({ class: cls, reason });
  });

  test('a rationale section after a bare class', () => {
    const r = ok(
      '- decision: return_to_best\n\n## Rationale\n\nTwo sessions on this axis regressed; the best is safer.',
    );
    expect(r.block.reason).toBe('Two sessions on this axis regressed; the best is safer.');
  });

  test("no reason anywhere: said so, not the rules' reason for their own class", () => {
    const r = ok('```loop-station-decision\nclass: pivot_axis\nnext_axis: window\n```');
    expect(r.block.reason).toBe('the supervisor agent gave no reason');
    expect(r.block.reason).not.toBe(BUILTIN.reason);
  });
});

describe('readAgentDecisionBlock: the forms agents write', () => {
  test('next_axis is keyed as a report axis is: written with spaces and capitals, it is the same axis', () => {
    expect(ok('class: pivot_axis\nnext_axis: Learning Rate Schedule').block.next_axis).toBe('learning-rate-schedule');
    expect(ok('class: pivot_axis\nnext_axis: `LR` (warmup)').block.next_axis).toBe('lr');
  });

  test('a class quoted before another is asked for again, not guessed; the same class twice is one', () => {
    const quoted = [
      'The built-in rules suggested:',
      '- class: promote',
      'I disagree. My decision:',
      '- class: keep',
      '- reason: the gain is within noise',
    ].join('\n');
    expect(read(quoted)).toEqual({
      error:
        'the text names more than one class (promote, keep): write a ```loop-station-decision block with ' +
        `\`class: <one of ${DECISION_CLASSES.join(', ')}>\`, once, with the class you decide`,
    });
    expect(ok('class: keep\n\nDecision: I went over the rules again.\n\n- class: **keep**').block.class).toBe('keep');
    // A block after the prose is the decision: the prose's quote does not count.
    expect(ok(`${quoted}\n\n\`\`\`loop-station-decision\nclass: keep\n\`\`\``).block.class).toBe('keep');
  });

  test('the exact block the engine renders reads back as itself, with nothing filled', () => {
    const block: DecisionBlock = { ...BUILTIN, class: 'retire', source: 'agent', reason: 'regression', next: 'try x' };
    expect(read(`# Decision\n\n${renderDecisionBlock(block)}\n\n## Integrated Judgment\n\nprose\n`)).toEqual({
      block,
      filled: [],
      notes: [],
    });
  });

  test('keys in its own order, some missing: the missing ones come from the engine and are listed', () => {
    const r = ok(
      [
        '```loop-station-decision',
        'reason: the blur kernel change regressed PSNR by 0.5 dB',
        'class: return_to_best',
        'session: 005',
        'next_axis: noise_schedule',
        '```',
      ].join('\n'),
    );
    expect(r.block).toEqual({
      ...BUILTIN,
      class: 'return_to_best',
      next_axis: 'noise_schedule',
      source: 'agent',
      reason: 'the blur kernel change regressed PSNR by 0.5 dB',
    });
    expect(r.filled).toEqual([
      'metric',
      'value',
      'best_session',
      'best_value',
      'axis',
      'protection',
      'reviews',
      'approval',
      'on_approve',
      'on_deny',
      'stop_reason',
      'next',
    ]);
    expect(r.notes).toEqual([
      "filled from the engine's state: metric, value, best_session, best_value, axis, protection, reviews, approval, on_approve, on_deny, stop_reason, next",
    ]);
  });

  test("Claude's habit: a ```yaml block with quoted strings and a folded reason, prose around it", () => {
    const r = ok(
      [
        "I've reviewed the executor report, the metrics and CLAUDE's review. Here is my decision:",
        '',
        '```yaml',
        'class: promote',
        'session: 5',
        'metric: "psnr"',
        'value: 29.3',
        'protection: passed',
        'reviews: "CLAUDE: supported"',
        'reason: >-',
        '  The wider kernel improves PSNR by 0.4 dB over the best',
        '  and the reviewer confirmed it.',
        'next: "try a 7x7 kernel"',
        '```',
        '',
        'Let me know if you need anything else.',
      ].join('\n'),
    );
    expect(r.block).toMatchObject({
      class: 'promote',
      session: 5,
      metric: 'psnr',
      value: 29.3,
      protection: 'pass',
      reviews: [{ agent: 'CLAUDE', verdict: 'supported' }],
      reason: 'The wider kernel improves PSNR by 0.4 dB over the best and the reviewer confirmed it.',
      next: 'try a 7x7 kernel',
      source: 'agent',
    });
  });

  test("Codex's habit: a Markdown list with bold keys and no fence", () => {
    const r = ok(
      [
        '## Decision',
        '',
        '- **class:** Promote',
        '- **session:** 005',
        '- **protection:** ok (psnr_floor holds)',
        '- **reviews:** CLAUDE: supported, CODEX: uncertain',
        '- **next_axis:** `noise_schedule`',
        '- **reason:** PSNR 29.3 > 28.9; protection holds.',
        '',
        'The executor should now look at the noise schedule.',
      ].join('\n'),
    );
    expect(r.block).toMatchObject({
      class: 'promote',
      session: 5,
      protection: 'pass',
      reviews: [
        { agent: 'CLAUDE', verdict: 'supported' },
        { agent: 'CODEX', verdict: 'uncertain' },
      ],
      next_axis: 'noise_schedule',
      reason: 'PSNR 29.3 > 28.9; protection holds.',
    });
  });

  test('a folded reason in a plain fence (YAML written without saying so)', () => {
    const r = ok(['```', 'class: keep', 'reason: >-', '  no gain over', '  the best', 'next: null', '```'].join('\n'));
    expect(r.block).toMatchObject({ class: 'keep', reason: 'no gain over the best', next: null });
  });

  test('bold keys with the colon outside, a plain fence and capitalised spaced keys', () => {
    const r = ok(
      ['```', '**Class**: Return to best', '**Best Session**: session_003', 'Stop Reason: none', '```'].join('\n'),
    );
    expect(r.block).toMatchObject({ class: 'return_to_best', best_session: 3, stop_reason: null });
  });

  test('a JSON object in a ```json fence; numbers and null as JSON has them', () => {
    const r = ok(
      [
        'Decision:',
        '```json',
        JSON.stringify({ class: 'pivot_axis', session: 5, axis: 'kernel', next_axis: 'schedule', protection: 'fail' }),
        '```',
      ].join('\n'),
    );
    expect(r.block).toMatchObject({ class: 'pivot_axis', axis: 'kernel', next_axis: 'schedule', protection: 'fail' });
  });

  test('a YAML list of reviews as objects, and a decision wrapped under one key', () => {
    const r = ok(
      [
        '```yaml',
        'decision:',
        '  class: keep',
        '  reviews:',
        '    - agent: CLAUDE',
        '      verdict: unsupported',
        '    - agent: CODEX',
        '      verdict: supported',
        '```',
      ].join('\n'),
    );
    expect(r.block.reviews).toEqual([
      { agent: 'CLAUDE', verdict: 'unsupported' },
      { agent: 'CODEX', verdict: 'supported' },
    ]);
  });

  test('a two-column Markdown table', () => {
    const r = ok(['| key | value |', '|---|---|', '| class | retire |', '| protection | failed |'].join('\n'));
    expect(r.block).toMatchObject({ class: 'retire', protection: 'fail' });
  });

  test('other names for keys: decision, rationale, next action', () => {
    const r = ok(['Decision: keep', 'Rationale: no gain this time', 'Next action: tune the learning rate'].join('\n'));
    expect(r.block).toMatchObject({ class: 'keep', reason: 'no gain this time', next: 'tune the learning rate' });
  });

  test('the last loop-station-decision block wins (a repair supersedes), other fences are ignored', () => {
    const r = ok(
      [
        '```loop-station-decision',
        'class: promote',
        '```',
        '```bash',
        'node eval.mjs',
        '```',
        '## Repair Decision',
        '```loop-station-decision',
        'class: keep',
        '```',
      ].join('\n'),
    );
    expect(r.block.class).toBe('keep');
  });

  test('a fenced code snippet without a class does not hide the decision in a later block', () => {
    const r = ok(['```python', 'x = 1', '```', '', '```text', 'class: retire', '```'].join('\n'));
    expect(r.block.class).toBe('retire');
  });

  test.for([
    ['passed', 'pass'],
    ['PASS', 'pass'],
    ['ok', 'pass'],
    ['✅', 'pass'],
    ['fail', 'fail'],
    ['Failed (psnr_floor 24.1 < 25)', 'fail'],
    ['violated', 'fail'],
    ['unknown', 'unknown'],
    ['n/a', 'unknown'],
  ] as const)('protection: %s reads as %s', ([text, want]) => {
    expect(ok(`class: keep\nprotection: ${text}`).block.protection).toBe(want);
  });

  test.for([
    ['5', 5],
    ['005', 5],
    ['session_005', 5],
    ['Session 5', 5],
    ['#5', 5],
  ] as const)('session: %s reads as session 5', ([text, want]) => {
    const r = ok(`class: keep\nsession: ${text}`);
    expect([r.block.session, r.notes]).toEqual([want, [expect.stringMatching(/^filled from/)]]);
  });

  test.for([
    ['Promote', 'promote'],
    ['**keep**', 'keep'],
    ['`retire`', 'retire'],
    ['"return_to_best"', 'return_to_best'],
    ['return-to-best', 'return_to_best'],
    ['needs more evidence', 'needs_more_evidence'],
    ['keep — no measurable gain', 'keep'],
    ['stop.', 'stop'],
  ] as const)('class: %s reads as %s', ([text, want]) => {
    expect(ok(`class: ${text}`).block.class).toBe(want);
  });

  test("the original's class names and short forms are read, with a note", () => {
    const r = ok('class: retire_axis');
    expect([r.block.class, r.notes[0]]).toEqual(['pivot_axis', 'class "retire_axis" read as pivot_axis']);
  });

  test('reviews in prose are unreadable: the engine list is used and the note says so', () => {
    const r = ok('class: keep\nreviews: Claude thought the gain was noise');
    expect(r.block.reviews).toEqual(BUILTIN.reviews);
    expect(r.notes).toContain('unreadable, the engine\'s value used: reviews "Claude thought the gain was noise"');
  });

  test('a session number that is not this session is read as this one, with a note', () => {
    const r = ok('class: keep\nsession: 004');
    expect(r.block.session).toBe(5);
    expect(r.notes[0]).toBe('session "004" is not this session: read as 005');
    expect(ok('```yaml\nclass: keep\nsession: 004\n```').notes[0]).toBe('session "4" is not this session: read as 005');
  });

  test('ask_user without its answers gets approval pending, stop on approve, keep on deny (asked before stopping)', () => {
    const r = ok('class: ask_user\nreason: the goal looks met; stop?');
    expect(r.block).toMatchObject({ approval: 'pending', on_approve: 'stop', on_deny: 'keep' });
    expect(r.filled).toContain('on_approve');
  });

  test('unknown keys are ignored and listed; an agent cannot set source', () => {
    const r = ok('```loop-station-decision\nclass: keep\nsource: human\nconfidence: high\n```');
    expect(r.block.source).toBe('agent');
    expect(r.notes).toContain('ignored unknown keys: confidence');
  });

  test('prose mentioning words like Note: is not taken for keys', () => {
    const r = ok('Note: the run was slow.\nclass: keep\nSummary: fine');
    expect(r.notes.some((n) => n.startsWith('ignored'))).toBe(false);
  });
});

describe('readAgentDecisionBlock: only the class is required', () => {
  test('no block and no class line: the error says what to write', () => {
    expect(read('I think we should keep going with the current approach.')).toEqual({
      error: `decision.md holds no decision block and no \`class:\` line: write a \`\`\`loop-station-decision block with \`class: <one of ${DECISION_CLASSES.join(', ')}>\``,
    });
  });

  test('a block without a class key', () => {
    expect(read('```loop-station-decision\nsession: 005\nreason: unsure\n```')).toEqual({
      error: `the \`\`\`loop-station-decision block has no \`class\` key: write a \`\`\`loop-station-decision block with \`class: <one of ${DECISION_CLASSES.join(', ')}>\``,
    });
  });

  test('an invalid class names the value and the allowed ones', () => {
    expect(read('```yaml\nclass: celebrate\n```')).toEqual({
      error: `class "celebrate" in a \`\`\`yaml block is not a decision class: write \`class: <one of ${DECISION_CLASSES.join(', ')}>\``,
    });
  });

  test('any text with a valid class line reads into a valid block (property)', () => {
    const noise = fc.array(fc.oneof(fc.string(), fc.constantFrom('reason: x', 'protection: ???', 'value: abc')), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(fc.constantFrom(...DECISION_CLASSES), noise, noise, (cls, before, after) => {
        const text = [...before.map((l) => l.replace(/class/gi, 'klass')), `class: ${cls}`, ...after].join('\n');
        const r = read(text.replace(/```|~~~/g, ''));
        return !('error' in r) && r.block.class === cls && r.block.session === 5;
      }),
    );
  });
});
