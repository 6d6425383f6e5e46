import { describe, expect, test } from 'vitest';
import { formatDuration, formatElapsed, parseDuration } from './duration.js';

describe('durations', () => {
  test.for<[string | number, number | undefined]>([
    ['1h30m', 5_400_000], ['45s', 45_000], ['500ms', 500], ['2d', 172_800_000], [90, 90_000], ['1.5', 1500], ['', undefined], ['5x', undefined], [-1, undefined],
  ])('parseDuration(%j) is %j', ([text, ms]) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.for<[number, string]>([[0, '0s'], [44_024, '44s24ms'], [5_400_000, '1h30m'], [90_061_001, '1d1h1m1s1ms']])('formatDuration(%d) is %s (exact, for contract.json)', ([ms, text]) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });

  test.for<[number, string]>([[0, '0s'], [400, '<1s'], [44_024, '44s'], [59_600, '1m'], [725_000, '12m5s'], [7_200_000, '2h'], [10_920_000, '3h2m']])('formatElapsed(%d) is %s (for people)', ([ms, text]) => {
    expect(formatElapsed(ms)).toBe(text);
  });
});
