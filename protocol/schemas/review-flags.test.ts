import { describe, expect, test } from 'vitest';
import {
  type ReviewFlagRow,
  type ReviewRecord,
  ReviewRecordSchema,
  ReviewRecordTextSchema,
  flagCellName,
  parseReviewFlags,
  parseReviewRecord,
  readOriginalTimeoutRecords,
  renderReviewFlags,
} from './review-flags.js';

const ROWS: ReviewFlagRow[] = [
  {
    seq: 41,
    timestamp: '2026-11-24T10:00:01.000Z',
    flag: 'LOOP_STATION-SESSION007-SUPERVISOR-READY.flag',
    record: null,
    meaning: 'review open',
    action: 'CLAUDE, LINT',
  },
  {
    seq: 42,
    timestamp: '2026-11-24T10:05:01.000Z',
    flag: null,
    record: 'REVIEW_START_TIMEOUT:LINT',
    meaning: 'no start in 5m',
    action: 'skip LINT',
  },
  {
    seq: 43,
    timestamp: '2026-11-24T10:05:02.000Z',
    flag: 'LINT-SESSION007-REVIEWER-TIMEOUT.flag',
    record: null,
    meaning: 'wait ended',
    action: '-',
  },
  {
    seq: 44,
    timestamp: '2026-11-24T10:09:00.000Z',
    flag: 'CLAUDE-SESSION007-REVIEWER-DONE.flag',
    record: 'REVIEW_CONSUMED:CLAUDE',
    meaning: 'a | b',
    action: 'decide',
  },
  {
    seq: 45,
    timestamp: '2026-11-24T10:09:01.000Z',
    flag: null,
    record: 'VIOLATION:ORDER_REVIEW_BEFORE_READY',
    meaning: 'external flag early',
    action: 'disregard',
  },
];

describe('review_flags.md (§5)', () => {
  test('renders the table, timeout records and violations', () => {
    expect(renderReviewFlags(7, ROWS)).toBe(
      [
        '# Review Flags — session 007',
        '',
        '| seq | timestamp | flag | record | meaning | action |',
        '| --- | --- | --- | --- | --- | --- |',
        '| 41 | 2026-11-24T10:00:01.000Z | LOOP_STATION-SESSION007-SUPERVISOR-READY.flag | - | review open | CLAUDE, LINT |',
        '| 42 | 2026-11-24T10:05:01.000Z | - | REVIEW_START_TIMEOUT:LINT | no start in 5m | skip LINT |',
        '| 43 | 2026-11-24T10:05:02.000Z | LINT-SESSION007-REVIEWER-TIMEOUT.flag | - | wait ended | - |',
        '| 44 | 2026-11-24T10:09:00.000Z | CLAUDE-SESSION007-REVIEWER-DONE.flag | REVIEW_CONSUMED:CLAUDE | a \\| b | decide |',
        '| 45 | 2026-11-24T10:09:01.000Z | - | VIOLATION:ORDER_REVIEW_BEFORE_READY | external flag early | disregard |',
        '',
        '## Timeout Records',
        '',
        '- REVIEW_START_TIMEOUT:LINT',
        '',
        '## Protocol Violations',
        '',
        '- VIOLATION:ORDER_REVIEW_BEFORE_READY',
        '',
      ].join('\n'),
    );
  });

  test('parses back what it renders, `-` as null and escaped pipes intact', () => {
    expect(parseReviewFlags(renderReviewFlags(7, ROWS))).toEqual({ rows: ROWS, hasSeq: true, problems: [] });
  });

  test('reads the original table without seq or record columns', () => {
    const md =
      '| timestamp | flag | meaning | action |\n|---|---|---|---|\n| 2025-06-01 10:00 | REVIEWER_B-SESSION050-BLOCKED.flag | blocked | go on |\n';
    expect(parseReviewFlags(md)).toEqual({
      hasSeq: false,
      problems: [],
      rows: [
        {
          seq: null,
          timestamp: '2025-06-01 10:00',
          flag: 'REVIEWER_B-SESSION050-BLOCKED.flag',
          record: null,
          meaning: 'blocked',
          action: 'go on',
        },
      ],
    });
  });

  test.for([
    ['CLAUDE-SESSION001-REVIEWER-DONE.flag', 'CLAUDE-SESSION001-REVIEWER-DONE.flag'],
    ['`CLAUDE-SESSION001-REVIEWER-DONE`', 'CLAUDE-SESSION001-REVIEWER-DONE'],
    ['loop_station/flags/session_001/CLAUDE-SESSION001-REVIEWER-DONE.flag', 'CLAUDE-SESSION001-REVIEWER-DONE.flag'],
    [
      '[CLAUDE-SESSION001-REVIEWER-DONE](../../flags/session_001/CLAUDE-SESSION001-REVIEWER-DONE.flag)',
      'CLAUDE-SESSION001-REVIEWER-DONE',
    ],
    ['**`CLAUDE-SESSION001-REVIEWER-DONE`** (late)', 'CLAUDE-SESSION001-REVIEWER-DONE'],
    ['consumed: `REVIEW_CONSUMED:CLAUDE`', 'REVIEW_CONSUMED:CLAUDE'],
  ] as const)('a table cell %s names %s', ([cell, name]) => {
    expect(flagCellName(cell)).toBe(name);
  });

  test('reads the Timeout Records bullets of the original, not its template lines', () => {
    const md = [
      '| timestamp | flag | meaning | action |',
      '|---|---|---|---|',
      '',
      '## Timeout Records',
      '',
      '- `REVIEW_START_TIMEOUT:{reviewer}`:',
      '- `REVIEW_HEARTBEAT_TIMEOUT:claude`: none',
      '- `REVIEW_START_TIMEOUT:CLAUDE`: 2026-11-20 11:34 — skipped',
      '- REVIEW_DONE_TIMEOUT:TESTER_A: no DONE in 1800 s',
      '- `REVIEW_START_TIMEOUT`:',
      '',
      '## Protocol Violations',
      '',
      '- `REVIEW_START_TIMEOUT:GEMINI`: not a timeout section',
    ].join('\n');
    expect(readOriginalTimeoutRecords(md)).toEqual([
      { record: { kind: 'REVIEW_START_TIMEOUT', subject: 'CLAUDE' }, rest: '2026-11-20 11:34 — skipped' },
      { record: { kind: 'REVIEW_DONE_TIMEOUT', subject: 'TESTER_A' }, rest: 'no DONE in 1800 s' },
    ]);
  });

  test('reports rows it cannot read', () => {
    const md =
      '| seq | timestamp | flag | record | meaning | action |\n|---|---|---|---|---|---|\n| x | t | - | REVIEW_EATEN:CLAUDE | m | a |\n';
    expect(parseReviewFlags(md).problems).toEqual([
      'row 1: seq "x" is not an integer',
      'row 1: record REVIEW_EATEN:CLAUDE is not in the §5 grammar',
    ]);
  });
});

describe('review records (§5)', () => {
  test.for([
    ['REVIEW_START_TIMEOUT:LINT', { kind: 'REVIEW_START_TIMEOUT', subject: 'LINT' }],
    ['REVIEW_START_TIMEOUT', { kind: 'REVIEW_START_TIMEOUT', subject: null }],
    ['REVIEW_DONE_TIMEOUT:CLAUDE', { kind: 'REVIEW_DONE_TIMEOUT', subject: 'CLAUDE' }],
    ['REVIEW_HEARTBEAT_TIMEOUT:GPT.5_X', { kind: 'REVIEW_HEARTBEAT_TIMEOUT', subject: 'GPT.5_X' }],
    ['REVIEW_DONE_WITHOUT_ARTIFACT:CLAUDE', { kind: 'REVIEW_DONE_WITHOUT_ARTIFACT', subject: 'CLAUDE' }],
    ['REVIEW_CONSUMED:CLAUDE', { kind: 'REVIEW_CONSUMED', subject: 'CLAUDE' }],
    ['REVIEW_SKIPPED:LINT', { kind: 'REVIEW_SKIPPED', subject: 'LINT' }],
    ['REVIEW_LATE:LINT', { kind: 'REVIEW_LATE', subject: 'LINT' }],
    ['REVIEW_NOT_OPENED:executor_blocked', { kind: 'REVIEW_NOT_OPENED', subject: 'executor_blocked' }],
    ['VIOLATION:ORDER_REVIEW_BEFORE_READY', { kind: 'VIOLATION', subject: 'ORDER_REVIEW_BEFORE_READY' }],
    [
      'VIOLATION:SUPERVISOR-DONE_BEFORE_REVIEWER-DONE',
      { kind: 'VIOLATION', subject: 'SUPERVISOR-DONE_BEFORE_REVIEWER-DONE' },
    ],
    ['REPAIRED:FLAG_UNKNOWN_PRODUCER', { kind: 'REPAIRED', subject: 'FLAG_UNKNOWN_PRODUCER' }],
  ] as const)('%s reads as %j and writes back unchanged', ([text, expected]) => {
    expect(parseReviewRecord(` ${text} `)).toEqual(expected);
    expect(ReviewRecordTextSchema.encode(expected)).toBe(text);
  });

  test.for([
    ['REVIEW_CONSUMED', 'no reviewer'],
    ['REVIEW_CONSUMED:', 'empty subject'],
    ['REVIEW_CONSUMED:claude', 'a lower-case agent'],
    ['REVIEW_CONSUMED:CLAUDE-CODE', 'an agent with a dash'],
    ['REVIEW_CONSUMED:CLAUDE:LINT', 'two subjects'],
    ['REVIEW_DONE_TIMEOUT', 'only REVIEW_START_TIMEOUT goes bare'],
    ['REVIEW_NOT_OPENED', 'no reason'],
    ['REVIEW_NOT_OPENED:Executor blocked', 'a reason in prose'],
    ['VIOLATION:flag_duplicate', 'a lower-case code'],
    ['REPAIRED', 'no code'],
    ['CONSUMED:CLAUDE', 'an unknown kind'],
    ['review_consumed:CLAUDE', 'a lower-case kind'],
  ] as const)('%s is refused (%s)', ([text]) => {
    expect(parseReviewRecord(text)).toBeUndefined();
  });

  test('the schema refuses a subject of the wrong form for its kind', () => {
    const paths = (value: unknown) =>
      ReviewRecordSchema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths({ kind: 'REVIEW_CONSUMED', subject: null })).toEqual([
      'subject: Invalid input: expected string, received null',
    ]);
    expect(paths({ kind: 'REVIEW_NOT_OPENED', subject: 'NO REVIEWERS' })).toEqual([
      'subject: Invalid string: must match pattern /^[a-z][a-z0-9_]*$/',
    ]);
    expect(paths({ kind: 'REVIEW_EATEN', subject: 'CLAUDE' })).toEqual([
      "kind: Invalid discriminator value. Expected 'REVIEW_START_TIMEOUT' | 'REVIEW_DONE_TIMEOUT' | 'REVIEW_HEARTBEAT_TIMEOUT' | 'REVIEW_DONE_WITHOUT_ARTIFACT' | 'REVIEW_CONSUMED' | 'REVIEW_SKIPPED' | 'REVIEW_LATE' | 'REVIEW_NOT_OPENED' | 'VIOLATION' | 'REPAIRED'",
    ]);
    expect(ReviewRecordTextSchema.safeEncode({ kind: 'VIOLATION', subject: 'a b' } as ReviewRecord).success).toBe(
      false,
    );
  });
});
