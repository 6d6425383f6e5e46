import { describe, expect, test } from 'vitest';
import { durationProblem, formatDuration, formatElapsed, parseDuration, rewriteDuration } from './duration.js';

describe('durations', () => {
  test.for<[string | number, number | undefined]>([
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['500ms', 500],
    ['2d', 172_800_000],
    [90, 90_000],
    ['1.5', 1500],
    ['', undefined],
    ['5x', undefined],
    [-1, undefined],
  ])('parseDuration(%j) is %j', ([text, ms]) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.for<[number, string]>([
    [0, '0s'],
    [44_024, '44s24ms'],
    [5_400_000, '1h30m'],
    [90_061_001, '1d1h1m1s1ms'],
  ])('formatDuration(%d) is %s (exact, for contract.json)', ([ms, text]) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });

  test.for<[number, string]>([
    [0, '0s'],
    [400, '<1s'],
    [44_024, '44s'],
    [59_600, '1m'],
    [725_000, '12m5s'],
    [7_200_000, '2h'],
    [10_920_000, '3h2m'],
  ])('formatElapsed(%d) is %s (for people)', ([ms, text]) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  test.for<[string, string | undefined]>([
    ['10 min', '10m'],
    ['1h 30m', '1h30m'],
    ['1.5h', '1h30m'],
    ['2 hours and 30 minutes', '2h30m'],
    ['90 secs', '1m30s'],
    ['3 days', '3d'],
    ['ten hours', undefined],
    ['5 parsecs', undefined],
    ['-5m', undefined],
    ['1h30', undefined],
  ])('a refused duration %j is read as %j for the suggestion', ([text, near]) => {
    expect(rewriteDuration(text)).toBe(near);
  });

  test('the refusal shows the accepted shape, what was given and the rewrite', () => {
    expect(durationProblem('10 min')).toBe(
      'must be a duration such as 90s, 45m or 1h30m (units d h m s ms, no spaces) or a number of seconds (got "10 min"); did you mean 10m?',
    );
    expect(durationProblem(-3)).toBe(
      'must be a duration such as 90s, 45m or 1h30m (units d h m s ms, no spaces) or a number of seconds (got -3)',
    );
  });
});
