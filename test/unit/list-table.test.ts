import { describe, expect, test } from 'vitest';
import { renderList } from '../../cli/commands/list.js';
import type { LoopList } from '../../protocol/schemas/cli-output.js';

const row = (over: Partial<LoopList[number]> = {}): LoopList[number] => ({
  workflowId: 'loop-a',
  name: 'a',
  status: 'RUNNING',
  phase: 'executing',
  session: 2,
  sessions: 5,
  best: 1,
  metric: 'score',
  startTime: '2026-01-01T00:00:00.000Z',
  closeTime: null,
  evidenceError: null,
  ...over,
});

describe("list's table", () => {
  test('no NOTE column while every loop measures', () => {
    expect(renderList([row()]).split('\n')[0]).toBe('LOOP    STATUS   PHASE      SESSION  BEST     STARTED');
  });

  test('an evidence failure is a NOTE: one line, clipped, what the command printed made terminal-safe', () => {
    const error = `metric score is missing \x1b]0;owned\x07(got:\n${'x'.repeat(200)})\x07`;
    const [header, line, other] = renderList([
      row({ evidenceError: { session: 3, error } }),
      row({ workflowId: 'loop-b' }),
    ])
      .trimEnd()
      .split('\n');
    expect(header!.endsWith('STARTED              NOTE')).toBe(true);
    const note = line!.slice(header!.indexOf('NOTE'));
    expect(note.startsWith('evidence failed at 003: metric score is missing (got: xxx')).toBe(true);
    expect([note.length, note.endsWith('…'), /[\x00-\x1f]/.test(line!)]).toEqual([
      'evidence failed at 003: '.length + 60,
      true,
      false,
    ]);
    expect(other!.trimEnd().endsWith('2026-01-01 00:00:00')).toBe(true);
  });
});
