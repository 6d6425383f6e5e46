import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatFlagName, isRepeatable, parseFlagName, readFlagName } from './flag-name.js';
import { FlagNameSchema, FlagNameTextSchema } from './schemas/flag-name.js';
import { ROLES, STATUSES } from './vocabulary.js';

const FLAG_NAME_PATTERN =
  '/^([A-Z0-9][A-Z0-9._]{0,31})-SESSION(\\d{3}|[1-9]\\d{3,})-(EXECUTOR|SUPERVISOR|REVIEWER|TESTER)-(READY|STANDBY|RUNNING|HEARTBEAT|DONE|BLOCKED|ABSTAIN|TIMEOUT|VIOLATION|REPAIRED)(?:-([2-9]|[1-9]\\d+))?\\.flag$/';

const flagArb = fc.record({
  agent: fc.stringMatching(/^[A-Z0-9][A-Z0-9._]{0,31}$/),
  session: fc.oneof(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 1000, max: 10_000_000 })),
  role: fc.constantFrom(...ROLES),
  status: fc.constantFrom(...STATUSES),
  occurrence: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 100_000 })),
});

describe('strict flag names (§2.1)', () => {
  test('format then parse returns the parts, and parse then format returns the name', () => {
    fc.assert(
      fc.property(flagArb, (flag) => {
        const name = formatFlagName(flag);
        expect(parseFlagName(name)).toEqual(flag);
        expect(formatFlagName(parseFlagName(name)!)).toBe(name);
      }),
      { numRuns: 500 },
    );
  });

  test('any string that parses formats back to itself', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(
          /^[A-Z0-9._]{1,4}-SESSION[0-9]{2,5}-(EXECUTOR|REVIEWER|TESTER)-(DONE|HEARTBEAT)(-[0-9]{1,3})?\.flag$/,
        ),
        (name) => {
          const parsed = parseFlagName(name);
          if (parsed) expect(formatFlagName(parsed)).toBe(name);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('through the schema too: decode accepts what parseFlagName accepts, and encode(decode(n)) === n', () => {
    const names = fc.oneof(
      flagArb.map(formatFlagName),
      fc.stringMatching(
        /^[A-Z0-9._-]{1,4}-SESSION[0-9]{2,5}-(EXECUTOR|REVIEWER|ANALYST)-(DONE|HEARTBEAT)(-[0-9]{1,3})?\.(flag|md)$/,
      ),
    );
    fc.assert(
      fc.property(names, (name) => {
        const decoded = FlagNameTextSchema.safeParse(name);
        expect(decoded.data).toEqual(parseFlagName(name));
        if (decoded.success) expect(FlagNameTextSchema.encode(decoded.data)).toBe(name);
      }),
      { numRuns: 500 },
    );
  });

  test('the schemas refuse a name off the grammar and parts that cannot be written', () => {
    expect(
      FlagNameTextSchema.safeParse('CLAUDE-SESSION07-REVIEWER-DONE.flag').error?.issues.map((i) => i.message),
    ).toEqual([`Invalid string: must match pattern ${FLAG_NAME_PATTERN}`]);
    expect(
      FlagNameSchema.safeParse({
        agent: 'claude-code',
        session: -1,
        role: 'ANALYST',
        status: 'DONE',
        occurrence: 0,
      }).error?.issues.map((i) => i.path.join('.')),
    ).toEqual(['agent', 'session', 'role', 'occurrence']);
    expect(
      FlagNameTextSchema.safeEncode({ agent: 'CLAUDE', session: 7, role: 'REVIEWER', status: 'DONE', occurrence: 1.5 })
        .success,
    ).toBe(false);
  });

  test.for([
    [
      'CLAUDE-SESSION007-REVIEWER-DONE.flag',
      { agent: 'CLAUDE', session: 7, role: 'REVIEWER', status: 'DONE', occurrence: 1 },
    ],
    [
      'CLAUDE-SESSION007-REVIEWER-HEARTBEAT-3.flag',
      { agent: 'CLAUDE', session: 7, role: 'REVIEWER', status: 'HEARTBEAT', occurrence: 3 },
    ],
    [
      'GPT.5_X-SESSION1234-TESTER-BLOCKED.flag',
      { agent: 'GPT.5_X', session: 1234, role: 'TESTER', status: 'BLOCKED', occurrence: 1 },
    ],
    ['CLAUDE-SESSION07-REVIEWER-DONE.flag', undefined],
    ['CLAUDE-SESSION0007-REVIEWER-DONE.flag', undefined],
    ['CLAUDE-SESSION007-REVIEWER-DONE-1.flag', undefined],
    ['CLAUDE-SESSION007-REVIEWER-DONE-02.flag', undefined],
    ['claude-SESSION007-REVIEWER-DONE.flag', undefined],
    ['CLAUDE-SESSION007-ANALYST-DONE.flag', undefined],
    ['CLAUDE-SESSION007-REVIEWER-DONE.md', undefined],
    ['CLAUDE-CODE-SESSION007-REVIEWER-DONE.flag', undefined],
  ] as const)('%s parses to %j', ([name, expected]) => {
    expect(parseFlagName(name)).toEqual(expected);
  });

  test('formatFlagName refuses a bad agent token or occurrence', () => {
    expect(() =>
      formatFlagName({ agent: 'claude-code', session: 1, role: 'REVIEWER', status: 'DONE', occurrence: 1 }),
    ).toThrow('agent token "claude-code" must match ^[A-Z0-9][A-Z0-9._]{0,31}$');
    expect(() =>
      formatFlagName({ agent: 'CLAUDE', session: 1, role: 'REVIEWER', status: 'DONE', occurrence: 0 }),
    ).toThrow('flag occurrence must be an integer >= 1 (got 0)');
  });

  test('only HEARTBEAT, VIOLATION, REPAIRED and SUPERVISOR-TIMEOUT repeat', () => {
    const repeatable = ROLES.flatMap((role) =>
      STATUSES.filter((s) => isRepeatable(role, s)).map((s) => `${role}-${s}`),
    );
    expect(repeatable).toEqual([
      'EXECUTOR-HEARTBEAT',
      'EXECUTOR-VIOLATION',
      'EXECUTOR-REPAIRED',
      'SUPERVISOR-HEARTBEAT',
      'SUPERVISOR-TIMEOUT',
      'SUPERVISOR-VIOLATION',
      'SUPERVISOR-REPAIRED',
      'REVIEWER-HEARTBEAT',
      'REVIEWER-VIOLATION',
      'REVIEWER-REPAIRED',
      'TESTER-HEARTBEAT',
      'TESTER-VIOLATION',
      'TESTER-REPAIRED',
    ]);
  });
});

describe('lenient flag names (§2.4)', () => {
  const roster = { REVIEWER_B: 'REVIEWER', CODEX: 'EXECUTOR' } as const;
  test.for([
    ['CLAUDE-SESSION007-TESTER-DONE.flag', 'CLAUDE REVIEWER DONE 1 strict', []],
    [
      'REVIEWER_B-SESSION050-BLOCKED.flag',
      'REVIEWER_B REVIEWER BLOCKED 1',
      [
        'LEGACY_FLAG_NAME: REVIEWER_B-SESSION050-BLOCKED.flag: role missing (REVIEWER from agent_roster.md); strict name REVIEWER_B-SESSION050-REVIEWER-BLOCKED.flag',
      ],
    ],
    [
      'TESTER_2-SESSION050-DONE.flag',
      'TESTER_2 REVIEWER DONE 1',
      [
        'LEGACY_FLAG_NAME: TESTER_2-SESSION050-DONE.flag: role missing (REVIEWER from the agent name); strict name TESTER_2-SESSION050-REVIEWER-DONE.flag',
      ],
    ],
    [
      'CODEX-SESSION050-DONE.flag',
      'CODEX EXECUTOR DONE 1',
      [
        'LEGACY_FLAG_NAME: CODEX-SESSION050-DONE.flag: role missing (EXECUTOR from agent_roster.md); strict name CODEX-SESSION050-EXECUTOR-DONE.flag',
      ],
    ],
    [
      'GEMINI-SESSION050-DONE.flag',
      null,
      [
        'LEGACY_FLAG_NAME: GEMINI-SESSION050-DONE.flag: role missing and GEMINI is not in agent_roster.md: role UNKNOWN, flag not counted',
      ],
    ],
    [
      'claude-session_7-reviewer-done.md',
      'CLAUDE REVIEWER DONE 1',
      [
        'LEGACY_FLAG_NAME: claude-session_7-reviewer-done.md: extension .md instead of .flag; lower case; session written SESSION_7; strict name CLAUDE-SESSION007-REVIEWER-DONE.flag',
      ],
    ],
    [
      'CLAUDE-SESSION7-REVIEWER-HEARTBEAT-4',
      'CLAUDE REVIEWER HEARTBEAT 4',
      [
        'LEGACY_FLAG_NAME: CLAUDE-SESSION7-REVIEWER-HEARTBEAT-4: no .flag extension; session written SESSION7; strict name CLAUDE-SESSION007-REVIEWER-HEARTBEAT-4.flag',
      ],
    ],
    [
      'CLAUDE-SESSION007-REVIEWER-HEARTBEAT_b.flag',
      'CLAUDE REVIEWER HEARTBEAT 1 tag _b',
      [
        'LEGACY_FLAG_NAME: CLAUDE-SESSION007-REVIEWER-HEARTBEAT_b.flag: occurrence tag _b instead of -k; strict name CLAUDE-SESSION007-REVIEWER-HEARTBEAT[-k].flag, k by time',
      ],
    ],
    [
      'X-SESSION007-ANALYST-DONE.yaml',
      'X REVIEWER DONE 1 optional',
      [
        'LEGACY_FLAG_NAME: X-SESSION007-ANALYST-DONE.yaml: extension .yaml instead of .flag; role ANALYST (read as an optional REVIEWER); strict name X-SESSION007-REVIEWER-DONE.flag',
      ],
    ],
    [
      'SESSION007-REVIEWER-DONE.flag',
      null,
      ['FLAG_ANONYMOUS: SESSION007-REVIEWER-DONE.flag names no agent before -SESSION'],
    ],
    [
      '-SESSION007-REVIEWER-DONE.flag',
      null,
      ['FLAG_ANONYMOUS: -SESSION007-REVIEWER-DONE.flag names no agent before -SESSION'],
    ],
    [
      'CLAUDE-SESSION007-REVIEWER-FINISHED.flag',
      null,
      [
        'FLAG_NAME_INVALID: CLAUDE-SESSION007-REVIEWER-FINISHED.flag: no known status (READY, STANDBY, RUNNING, HEARTBEAT, DONE, BLOCKED, ABSTAIN, TIMEOUT, VIOLATION, REPAIRED)',
      ],
    ],
    [
      'CLAUDE-SESSION007-REVIEWER-DONE.log',
      null,
      ["FLAG_NAME_INVALID: CLAUDE-SESSION007-REVIEWER-DONE.log: extension .log is not a flag's"],
    ],
    [
      'claude-code-SESSION007-REVIEWER-DONE.flag',
      null,
      [
        'FLAG_NAME_INVALID: claude-code-SESSION007-REVIEWER-DONE.flag: agent token CLAUDE-CODE must be 1-32 letters, digits, dots or underscores',
      ],
    ],
    ['notes.txt', null, ['FLAG_NAME_INVALID: notes.txt does not read {AGENT}-SESSION{NNN}-{ROLE}-{STATUS}.flag']],
  ] as const)('%s reads as %s', ([name, expected, issues]) => {
    const r = readFlagName(name, { rosterRoles: roster });
    const summary = r.flag
      ? `${r.flag.agent} ${r.flag.role} ${r.flag.status} ${r.flag.occurrence}${r.strict ? ' strict' : ''}${r.occurrenceTag ? ` tag ${r.occurrenceTag}` : ''}${r.optionalReviewer ? ' optional' : ''}`
      : null;
    expect([summary, r.issues.map((i) => `${i.code}: ${i.message}`)]).toEqual([expected, issues]);
  });
});
