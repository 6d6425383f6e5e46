import { describe, expect, test } from 'vitest';
import { readAgentDecisionBlock } from './agent-decision.js';
import type { DecisionBlock } from './schemas/state.js';

const ENGINE: DecisionBlock = {
  class: 'promote',
  session: 4,
  metric: 'score',
  value: 3,
  best_session: 4,
  best_value: 3,
  axis: 'width',
  next_axis: null,
  protection: 'pass',
  reviews: [{ agent: 'CLAUDE', verdict: 'supported' }],
  approval: 'none',
  on_approve: null,
  on_deny: null,
  stop_reason: null,
  source: 'builtin',
  reason: 'rule 5: 3 beats 2',
  next: 'CODEX',
};

describe('an agent decision read leniently', () => {
  test('keys in any order, some missing, loose values and prose around: the class is honoured, the rest filled and listed', () => {
    const read = readAgentDecisionBlock(
      [
        'I looked at everything.',
        '```yaml',
        '- **Reason**: the gain is noise',
        'Class: Keep',
        'session: 4',
        '```',
        'Thanks.',
      ].join('\n'),
      { session: 4, builtin: ENGINE },
    );
    expect('error' in read).toBe(false);
    if ('error' in read) return;
    expect([read.block.class, read.block.reason, read.block.source, read.block.value]).toEqual([
      'keep',
      'the gain is noise',
      'agent',
      3,
    ]);
    expect(read.filled).toContain('protection');
    expect(read.notes[0]).toMatch(/^filled from the engine's state: /);
  });

  test('the last loop-station-decision block wins over other fences', () => {
    const read = readAgentDecisionBlock(
      '```loop-station-decision\nclass: keep\n```\n```loop-station-decision\nclass: retire\n```\n',
      { session: 4, builtin: ENGINE },
    );
    expect('block' in read && read.block.class).toBe('retire');
  });

  test("the original's class names are read as pivot_axis; ask_user gets its answers filled", () => {
    const legacy = readAgentDecisionBlock('class: retire_axis', { session: 4, builtin: ENGINE });
    expect('block' in legacy && legacy.block.class).toBe('pivot_axis');
    const ask = readAgentDecisionBlock('class: ask_user', { session: 4, builtin: ENGINE });
    expect('block' in ask && [ask.block.approval, ask.block.on_approve, ask.block.on_deny]).toEqual([
      'pending',
      'promote',
      'keep',
    ]);
  });

  test('a missing or unknown class is the one error, worded for the repair turn', () => {
    expect(readAgentDecisionBlock('reason: fine', { session: 4, builtin: ENGINE })).toEqual({
      error: expect.stringMatching(/^the decision block has no `class:` line: write one line `class: <class>`/),
    });
    expect(readAgentDecisionBlock('class: ship_it', { session: 4, builtin: ENGINE })).toEqual({
      error: expect.stringMatching(/^class "ship_it" is not a decision class: .* one of promote, keep,/),
    });
  });
});
