import { describe, expect, test } from 'vitest';
import { type LeaderboardRow, parseCsv, parseLeaderboard, renderLeaderboard } from './leaderboard.js';

const ROWS: LeaderboardRow[] = [
  {
    session: 0,
    timestamp: '2026-11-24T09:59:00.000Z',
    axis: null,
    class: 'baseline',
    metric: 'psnr',
    value: 24,
    protection: 'pass',
    best_session: 0,
    best_value: 24,
    reviews: [],
    variant: 'loop_station/code_variants/session_000/baseline',
  },
  {
    session: 1,
    timestamp: '2026-11-24T10:10:00.000Z',
    axis: 'width, "wide"',
    class: 'promote',
    metric: 'psnr',
    value: 25.125,
    protection: 'pass',
    best_session: 1,
    best_value: 25.125,
    reviews: ['CLAUDE:supported', 'LINT:timeout'],
    variant: 'loop_station/code_variants/session_001/candidate',
  },
  {
    session: 1000,
    timestamp: '2026-11-25T10:10:00.000Z',
    axis: 'depth',
    class: 'retire',
    metric: 'psnr',
    value: null,
    protection: 'fail',
    best_session: null,
    best_value: null,
    reviews: [],
    variant: null,
  },
];

describe('leaderboard.csv (§6)', () => {
  test('renders a header and RFC 4180 rows', () => {
    expect(renderLeaderboard(ROWS)).toBe(
      [
        'session,timestamp,axis,class,metric,value,protection,best_session,best_value,reviews,variant',
        '000,2026-11-24T09:59:00.000Z,,baseline,psnr,24,pass,000,24,,loop_station/code_variants/session_000/baseline',
        '001,2026-11-24T10:10:00.000Z,"width, ""wide""",promote,psnr,25.125,pass,001,25.125,CLAUDE:supported LINT:timeout,loop_station/code_variants/session_001/candidate',
        '1000,2026-11-25T10:10:00.000Z,depth,retire,psnr,,fail,,,,',
        '',
      ].join('\n'),
    );
  });

  test('parses back, with CRLF too', () => {
    expect(parseLeaderboard(renderLeaderboard(ROWS))).toEqual({ rows: ROWS, problems: [] });
    expect(parseLeaderboard(renderLeaderboard(ROWS).replace(/\n/g, '\r\n'))).toEqual({ rows: ROWS, problems: [] });
  });

  test('reports a wrong header or a bad row by line', () => {
    expect(parseLeaderboard('session,value\n1,2\n').problems).toEqual([
      'line 1: header must be session,timestamp,axis,class,metric,value,protection,best_session,best_value,reviews,variant',
    ]);
    const text = `${renderLeaderboard([])}001,t,a,winner,psnr,x,pass,,,,\n002,t\n`;
    expect(parseLeaderboard(text).problems).toEqual([
      'line 2: class: Invalid option: expected one of "promote"|"keep"|"retire"|"return_to_best"|"pivot_axis"|"needs_more_evidence"|"needs_code_variant"|"stop"|"ask_user"|"baseline"; value: Invalid input: expected number, received undefined',
      'line 3: 2 fields, expected 11',
    ]);
  });

  test('quoted fields keep commas, quotes and line breaks', () => {
    expect(parseCsv('a,"b,c","d""e","f\ng"\n')).toEqual([['a', 'b,c', 'd"e', 'f\ng']]);
  });
});
