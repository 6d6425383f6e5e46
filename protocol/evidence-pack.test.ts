import { describe, expect, test } from 'vitest';
import {
  type EvidencePackData,
  PACK_LIMITS,
  packImagesToAttach,
  renderPackIndex,
  renderPackMetrics,
  renderPackPatch,
} from './evidence-pack.js';
import type { LeaderboardRow } from './schemas/leaderboard.js';

const DIFF = { against: 'the best (session 002)', from: 'a', to: 'b', missing: null, files: [] };
const DATA: EvidencePackData = {
  session: 3,
  axis: 'x',
  metric: 'score',
  direction: 'maximize',
  command: 'node eval.mjs',
  best: { session: 2, value: 3, metrics: { score: 3 } },
  current: null,
  history: [],
  axes: [],
  diffs: { best: DIFF, previous: DIFF },
  carried: [],
  images: [],
  imagesLeftOut: 0,
  otherArtifacts: [],
  logs: [],
  reviews: [],
};

describe('evidence pack renderers', () => {
  test('a patch is cut at a file boundary past its limit, naming what was left out', () => {
    const big = 'x'.repeat(PACK_LIMITS.patchChars - 10);
    const text = renderPackPatch(3, {
      ...DIFF,
      files: [
        { path: 'a.txt', patch: big, note: null },
        { path: 'b.txt', patch: '--- b.txt\n+++ b.txt', note: null },
        { path: 'c.bin', patch: null, note: 'binary or too large to show (1 bytes → 2 bytes)' },
      ],
    });
    expect(text).toContain(big);
    expect(text.trimEnd().split('\n').at(-1)).toBe('# Cut at 120 KiB; not shown: b.txt, c.bin');
  });

  test('images to attach: this session then the best, pair by pair, small ones only, at most the limit', () => {
    const image = (n: number, bytes = 10) => ({ name: `${n}.png`, candidate: `c${n}.png`, best: `b${n}.png`, bytes });
    expect(packImagesToAttach([image(1), image(2, PACK_LIMITS.attachImageBytes + 1), image(3)])).toEqual([
      'c1.png',
      'b1.png',
      'c3.png',
      'b3.png',
    ]);
    expect(packImagesToAttach(Array.from({ length: 10 }, (_, i) => image(i)))).toHaveLength(PACK_LIMITS.attachImages);
  });

  test('the history keeps the latest sessions and says how many there are in all', () => {
    const row = (session: number): LeaderboardRow => ({
      session,
      timestamp: 't',
      axis: 'x',
      class: 'keep',
      metric: 'score',
      value: session,
      protection: 'pass',
      best_session: 0,
      best_value: 0,
      reviews: [],
      variant: null,
    });
    const text = renderPackMetrics({ ...DATA, history: Array.from({ length: 120 }, (_, i) => row(i)) });
    expect(text).toContain('The latest 100 of 120 sessions (all are in loop_station/leaderboard.csv).');
    expect(text).not.toContain('| 019 |');
    expect(text).toContain('| 020 | x | keep | 20 |');
    expect(text).toContain('The evidence did not run this session.');
  });

  test("an axis's best promoted value is one a session kept; a vetoed value shows only as measured", () => {
    const row = (session: number, axis: string | null, value: number, best: number): LeaderboardRow => ({
      session,
      timestamp: 't',
      axis,
      class: best === session ? 'promote' : 'keep',
      metric: 'score',
      value,
      protection: 'pass',
      best_session: best,
      best_value: null,
      reviews: [],
      variant: null,
    });
    // Session 003 on depth was promoted at 0.8; 005 measured 0.9 but a reviewer vetoed it.
    const history = [
      row(0, null, 0.5, 0),
      row(3, 'depth', 0.8, 3),
      row(4, 'dropout', 0.85, 4),
      row(5, 'depth', 0.9, 4),
    ];
    const axis = { plateau: 0, retired: false, retiredAtSession: null };
    const text = renderPackMetrics({
      ...DATA,
      session: 6,
      history,
      axes: [
        { ...axis, name: 'depth', sessions: 2, bestValue: 0.9 },
        { ...axis, name: 'width', sessions: 1, bestValue: 0.7 },
      ],
    });
    expect(text).toContain('| depth | 2 | 0 | no | 0.8 (003) | 0.9 |');
    expect(text).toContain('| width | 1 | 0 | no | none | 0.7 |');
    expect(text).toContain('Best measured: the best value any session on the axis measured, promoted or not');
  });

  test('the index counts files in words that fit the number', () => {
    const one = { ...DIFF, files: [{ path: 'a', patch: '', note: null }] };
    const more = { ...DIFF, files: [...one.files, { path: '…', patch: null, note: 'more files differ' }] };
    const index = renderPackIndex({ ...DATA, diffs: { best: one, previous: more } });
    expect(index).toContain('- against the best: 1 file differs: a');
    expect(index).toContain('- against the previous session: 1 or more files differ: a');
    expect(index).toContain('- score: no value this session');
  });
});
