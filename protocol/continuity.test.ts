import { describe, expect, test } from 'vitest';
import { carryThread, type CarriedThread, threadKey, threadToResume } from './continuity.js';

const thread = { continuity: 'thread' as const, rotateEvery: 3 };

describe('continuity: an agent thread kept across sessions', () => {
  test('a fresh agent never resumes nor carries a thread', () => {
    const carried: CarriedThread = { id: 't1', since: 1, sessions: 1 };
    expect(threadToResume({}, carried)).toBeNull();
    expect(threadToResume({ continuity: 'fresh' }, carried)).toBeNull();
    expect(carryThread({}, undefined, { resumed: null, ended: 't1', failureCode: null, session: 1 })).toBeUndefined();
  });

  test('a thread agent resumes its thread session after session, then rotates after rotateEvery', () => {
    let carried: CarriedThread | undefined;
    const resumedIds: (string | null)[] = [];
    const ids = ['a', 'a', 'a', 'b', 'b'];
    for (let session = 1; session <= 5; session++) {
      const resumed = threadToResume(thread, carried);
      resumedIds.push(resumed);
      // A resumed run ends in its thread; a fresh one in a new one (the CLI names it).
      const ended = resumed ?? ids[session - 1]!;
      carried = carryThread(thread, carried, { resumed, ended, failureCode: null, session });
    }
    expect(resumedIds).toEqual([null, 'a', 'a', null, 'b']);
    expect(carried).toEqual({ id: 'b', since: 4, sessions: 2 });
  });

  test('a full context drops the thread; a run without a thread carries none', () => {
    const carried: CarriedThread = { id: 'a', since: 1, sessions: 1 };
    expect(carryThread(thread, carried, { resumed: 'a', ended: 'a', failureCode: 'context_full', session: 2 })).toBe(
      undefined,
    );
    expect(carryThread(thread, carried, { resumed: 'a', ended: null, failureCode: null, session: 2 })).toBeUndefined();
  });

  test('a run that started fresh after its thread failed carries its new thread from this session', () => {
    const carried: CarriedThread = { id: 'a', since: 1, sessions: 2 };
    expect(carryThread(thread, carried, { resumed: 'a', ended: 'z', failureCode: null, session: 3 })).toEqual({
      id: 'z',
      since: 3,
      sessions: 1,
    });
  });

  test('threads are kept per role and agent', () => {
    expect(threadKey('CODEX', 'EXECUTOR')).not.toBe(threadKey('CODEX', 'REVIEWER'));
  });
});
