import { describe, expect, test } from 'vitest';
import { renderSessionLedger } from '../render/session-ledger.js';
import type { LeaderboardRow } from './leaderboard.js';
import { parseSessionLedger, SessionLedgerRowSchema } from './session-ledger.js';
import type { Intervention } from './state.js';

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
    axis: 'width',
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
    best_session: 1,
    best_value: 25.125,
    reviews: [],
    variant: null,
  },
];
const INTERVENTIONS: Intervention[] = [
  { at: '2026-11-24T10:20:00.000Z', kind: 'redirect', session: 2, note: 'try depth | not width\nnext', via: 'update' },
  { at: '2026-11-24T10:21:00.000Z', kind: 'extendBudget', session: 2, note: '', via: 'update' },
];

describe('SESSION_LEDGER.md (§8)', () => {
  test('parses back every row and intervention the renderer writes', () => {
    expect(
      parseSessionLedger(renderSessionLedger({ executorToken: 'CODEX', rows: ROWS, interventions: INTERVENTIONS })),
    ).toEqual({
      rows: [
        {
          session: 0,
          executor: null,
          reviewer: [],
          variants: 'loop_station/code_variants/session_000/baseline',
          key_metrics: 'psnr=24 (protection pass)',
          visual_judgment: null,
          decision: 'baseline',
          consumed_reviews: [],
          artifacts: 'loop_station/code_variants/session_000/baseline',
        },
        {
          session: 1,
          executor: 'CODEX',
          reviewer: ['CLAUDE', 'LINT'],
          variants: 'loop_station/code_variants/session_001/candidate',
          key_metrics: 'psnr=25.125 (protection pass)',
          visual_judgment: 'CLAUDE:supported LINT:timeout',
          decision: 'promote',
          consumed_reviews: ['CLAUDE'],
          artifacts: 'loop_station/sessions/session_001',
        },
        {
          session: 1000,
          executor: 'CODEX',
          reviewer: [],
          variants: null,
          key_metrics: 'psnr=- (protection fail)',
          visual_judgment: null,
          decision: 'retire',
          consumed_reviews: [],
          artifacts: 'loop_station/sessions/session_1000',
        },
      ],
      interventions: [
        '2026-11-24T10:20:00.000Z session 002 redirect (update): try depth | not width next',
        '2026-11-24T10:21:00.000Z session 002 extendBudget (update): -',
      ],
      problems: [],
    });
  });

  test('reads `- none` as no interventions and an empty ledger as no rows', () => {
    expect(parseSessionLedger(renderSessionLedger({ executorToken: 'CODEX', rows: [], interventions: [] }))).toEqual({
      rows: [],
      interventions: [],
      problems: [],
    });
  });

  test('reads a hand-written original ledger leniently, listing what differs', () => {
    const md = [
      '# Session Ledger',
      '',
      '| Session | Executor | Reviewer | Variants | Key_Metrics | Visual Judgment | Decision | Notes |',
      '|---|---|---|---|---|---|---|---|',
      '| 049 | CODEX | REVIEWER_B, GEMINI | width_64 | PSNR 28.4, SSIM 0.91 | sharper edges, slight ringing | promote | tried 64 channels |',
      '| session_050 | CODEX | REVIEWER_B | - | PSNR 28.1 | halos | retire_axis |',
      '| next | | | | | | | |',
      '',
    ].join('\n');
    expect(parseSessionLedger(md)).toEqual({
      rows: [
        {
          session: 49,
          executor: 'CODEX',
          reviewer: ['REVIEWER_B', 'GEMINI'],
          variants: 'width_64',
          key_metrics: 'PSNR 28.4, SSIM 0.91',
          visual_judgment: 'sharper edges, slight ringing',
          decision: 'promote',
          consumed_reviews: [],
          artifacts: null,
        },
        {
          session: 50,
          executor: 'CODEX',
          reviewer: ['REVIEWER_B'],
          variants: null,
          key_metrics: 'PSNR 28.1',
          visual_judgment: 'halos',
          decision: 'retire_axis',
          consumed_reviews: [],
          artifacts: null,
        },
      ],
      interventions: [],
      problems: [
        'unknown column Notes: ignored',
        'missing columns consumed reviews, artifacts: read as -',
        'row 2: 7 cells under 8 columns',
        'row 3: session "next" is not a session number: row skipped',
        'no ## Interventions section',
      ],
    });
  });

  test('the row schema refuses a negative session, an empty cell text and a list given as text', () => {
    const row = {
      session: 1,
      executor: 'CODEX',
      reviewer: [],
      variants: null,
      key_metrics: null,
      visual_judgment: null,
      decision: 'keep',
      consumed_reviews: [],
      artifacts: null,
    };
    expect(SessionLedgerRowSchema.parse(row)).toEqual(row);
    expect(
      SessionLedgerRowSchema.safeParse({ ...row, session: -1, executor: '', reviewer: 'CLAUDE' }).error?.issues.map(
        (i) => i.path.join('.'),
      ),
    ).toEqual(['session', 'executor', 'reviewer']);
  });

  test('a file without a table has no rows, and says so', () => {
    expect(parseSessionLedger('# Session Ledger\n\n## Interventions\n\n- none\n')).toEqual({
      rows: [],
      interventions: [],
      problems: ['no sessions table'],
    });
  });
});
