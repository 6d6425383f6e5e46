import { describe, expect, test } from 'vitest';
import { type AgentFlagFacts, judgeAgentExecutorFlags } from './agent-flags.js';

const fact = (name: string, over: Partial<AgentFlagFacts> = {}): AgentFlagFacts => ({
  name,
  status: /-(\w+)(?:-\d+)?\.flag$/.exec(name)![1]!,
  said: null,
  agrees: true,
  sha256: `sha-${name}`,
  rewrote: null,
  ...over,
});
const terminal = (status: 'DONE' | 'BLOCKED') => ({ agent: 'EXEC', session: 1, status });

describe('judgeAgentExecutorFlags', () => {
  test('nothing the executor wrote: the terminal flag as always', () => {
    expect(judgeAgentExecutorFlags([], terminal('DONE'))).toEqual({ adopt: null, occurrence: 1, violations: [] });
  });

  test('a DONE that agrees is adopted; the RUNNING rewritten in place is adopted as well', () => {
    const judged = judgeAgentExecutorFlags(
      [
        fact('EXEC-SESSION001-EXECUTOR-DONE.flag', { said: 'DONE' }),
        fact('EXEC-SESSION001-EXECUTOR-RUNNING.flag', { rewrote: 'a'.repeat(64), sha256: 'b'.repeat(64) }),
      ],
      terminal('DONE'),
    );
    expect(judged.adopt).toBe('sha-EXEC-SESSION001-EXECUTOR-DONE.flag');
    expect(judged.occurrence).toBe(1);
    expect(judged.violations.map((v) => [v.code, v.adopted, v.reason])).toEqual([
      [
        'FLAG_UNKNOWN_PRODUCER',
        true,
        'EXEC-SESSION001-EXECUTOR-DONE.flag: EXEC wrote an executor flag itself; only the engine writes them',
      ],
      [
        'FLAG_COLLISION',
        true,
        'EXEC-SESSION001-EXECUTOR-RUNNING.flag: rewritten in place after the engine wrote it (sha256 aaaaaaaaaaaa when written, bbbbbbbbbbbb now)',
      ],
    ]);
    expect(judged.violations[0]!.subject).toBe('loop_station/flags/session_001/EXEC-SESSION001-EXECUTOR-DONE.flag');
  });

  test("a DONE the engine's BLOCKED contradicts is disregarded, and says so", () => {
    const judged = judgeAgentExecutorFlags([fact('EXEC-SESSION001-EXECUTOR-DONE.flag')], terminal('BLOCKED'));
    expect(judged).toMatchObject({ adopt: null, occurrence: 1 });
    expect(judged.violations.map((v) => [v.adopted, v.noted])).toEqual([
      [
        false,
        "EXEC-SESSION001-EXECUTOR-DONE.flag: EXEC wrote an executor flag itself; only the engine writes them; it says DONE, the engine's verdict is BLOCKED (EXEC-SESSION001-EXECUTOR-BLOCKED.flag)",
      ],
    ]);
  });

  test("a flag at the terminal's name whose body says otherwise stays; the engine's verdict takes the next free -k", () => {
    const judged = judgeAgentExecutorFlags(
      [
        fact('EXEC-SESSION001-EXECUTOR-DONE.flag', { said: 'BLOCKED', agrees: false }),
        fact('EXEC-SESSION001-EXECUTOR-DONE-2.flag'),
      ],
      terminal('DONE'),
    );
    expect(judged.adopt).toBeNull();
    expect(judged.occurrence).toBe(3);
    expect(judged.violations.map((v) => v.adopted)).toEqual([false, false]);
    expect(judged.violations[0]!.noted).toContain(
      "it says BLOCKED, the engine's verdict is DONE (EXEC-SESSION001-EXECUTOR-DONE-3.flag)",
    );
  });

  test('HEARTBEATs the executor created are adopted as life (executor-heartbeat-is-life), still recorded', () => {
    const flags = [
      fact('EXEC-SESSION001-EXECUTOR-HEARTBEAT.flag', { said: 'HEARTBEAT' }),
      fact('EXEC-SESSION001-EXECUTOR-HEARTBEAT-2.flag'),
      // Not the executor's own beat: a body that says another status, another agent's token.
      fact('EXEC-SESSION001-EXECUTOR-HEARTBEAT-3.flag', { said: 'DONE', agrees: false }),
      fact('OTHER-SESSION001-EXECUTOR-HEARTBEAT.flag'),
    ];
    const judged = judgeAgentExecutorFlags(flags, terminal('DONE'), { heartbeatsAreLife: true });
    expect(judged.adopt).toBeNull();
    expect(judged.violations.map((v) => [v.code, v.adopted, v.life ?? false])).toEqual([
      ['FLAG_UNKNOWN_PRODUCER', true, true],
      ['FLAG_UNKNOWN_PRODUCER', true, true],
      ['FLAG_UNKNOWN_PRODUCER', false, false],
      ['FLAG_UNKNOWN_PRODUCER', false, false],
    ]);
    expect(judged.violations[0]!.noted).toBe(
      "EXEC-SESSION001-EXECUTOR-HEARTBEAT.flag: EXEC wrote its own HEARTBEAT; a sign of life, as the engine's",
    );
    // Runs before it disregard them.
    const before = judgeAgentExecutorFlags(flags, terminal('DONE'));
    expect(before.violations.map((v) => v.adopted)).toEqual([false, false, false, false]);
  });
});
