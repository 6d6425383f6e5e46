import { describe, expect, test } from 'vitest';
import { closestName, editDistance } from './suggest.js';
import { NOTIFY_EVENTS } from './schemas/notification.js';
import { AGENT_KINDS, DECISION_CLASSES } from './vocabulary.js';

describe('did you mean', () => {
  test('edit distance counts a swap of neighbours as one edit', () => {
    expect([
      editDistance('plateau', 'plateau'),
      editDistance('plateu', 'plateau'),
      editDistance('notfiy', 'notify'),
      editDistance('', 'abc'),
    ]).toEqual([0, 1, 1, 3]);
  });

  test.for([
    ['new-best', NOTIFY_EVENTS, 'new_best'],
    ['newbest', NOTIFY_EVENTS, 'new_best'],
    ['Loop_Ended', NOTIFY_EVENTS, 'loop_ended'],
    ['budget80', NOTIFY_EVENTS, 'budget_80'],
    ['review', NOTIFY_EVENTS, 'review_ready'],
    ['promte', DECISION_CLASSES, 'promote'],
    ['return-to-best', DECISION_CLASSES, 'return_to_best'],
    ['Codex', AGENT_KINDS, 'codex'],
    ['claude-code', AGENT_KINDS, 'claude'],
    ['max', ['maximize', 'minimize'], 'maximize'],
  ] as const)('%s is near %s: %s', ([input, allowed, near]) => {
    expect(closestName(input, allowed)).toBe(near);
  });

  test.for([
    ['done', NOTIFY_EVENTS],
    ['explode', DECISION_CLASSES],
    ['gemini', AGENT_KINDS],
    ['up', ['maximize', 'minimize']],
    ['', AGENT_KINDS],
  ] as const)('%s is near nothing', ([input, allowed]) => {
    expect(closestName(input, allowed)).toBeUndefined();
  });
});
