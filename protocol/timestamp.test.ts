import { describe, expect, test } from 'vitest';
import { dominantOffset, parseLooseTimestamp, timestampMs } from './timestamp.js';

const iso = (text: string, zone = 0) => {
  const t = parseLooseTimestamp(text);
  return t && { at: new Date(timestampMs(t, zone)).toISOString(), span: t.spanMs, zoned: t.offsetMinutes !== null };
};

describe('parseLooseTimestamp', () => {
  test.for([
    ['2026-11-20T10:06:30.123Z', '2026-11-20T10:06:30.123Z', 1, true],
    ['2026-11-20T10:06Z', '2026-11-20T10:06:00.000Z', 60_000, true],
    ['2026-11-20 10:06', '2026-11-20T10:06:00.000Z', 60_000, false],
    ['2026-11-20 10:06:30', '2026-11-20T10:06:30.000Z', 1000, false],
    ['2026-11-20T19:06:30+09:00', '2026-11-20T10:06:30.000Z', 1000, true],
    ['2026-11-20 19:06 +0900', '2026-11-20T10:06:00.000Z', 60_000, true],
    ['2026-11-20 19:06 KST', '2026-11-20T10:06:00.000Z', 60_000, true],
    ['2026-11-20T05:06:30-05', '2026-11-20T10:06:30.000Z', 1000, true],
    ['`2026/11/20 10:06 UTC`', '2026-11-20T10:06:00.000Z', 60_000, true],
    ['2026-11-20', '2026-11-20T00:00:00.000Z', 86_400_000, false],
  ] as const)('%s is %s, a span of %i ms', ([text, at, span, zoned]) => {
    expect(iso(text)).toEqual({ at, span, zoned });
  });

  test.for([
    '',
    'after lunch',
    '2026-11-20 오후 3:06',
    '2026-11-31 10:00',
    '2026-11-20 24:00',
    '2026-11-20 10:06 CST',
    '20261120',
    '2026-11-20T10:06+15:00',
  ])('%j is no time', (text) => {
    expect(parseLooseTimestamp(text)).toBeUndefined();
  });

  test('a time without a zone is read in the zone given, whatever the machine runs in', () => {
    expect([iso('2026-11-20 19:06', 540)?.at, iso('2026-11-20 19:06')?.at]).toEqual([
      '2026-11-20T10:06:00.000Z',
      '2026-11-20T19:06:00.000Z',
    ]);
  });
});

describe('dominantOffset', () => {
  const at = (text: string) => parseLooseTimestamp(text)!;

  test('is the zone most zoned times carry; zone-less ones do not vote', () => {
    expect(
      dominantOffset([
        at('2026-11-20T10:00+09:00'),
        at('2026-11-20 10:00'),
        at('2026-11-20 10:00'),
        at('2026-11-20T10:00Z'),
        at('2026-11-20T11:00+09:00'),
      ]),
    ).toBe(540);
  });

  test('is UTC when nothing names a zone, and the first met on a tie', () => {
    expect([
      dominantOffset([at('2026-11-20 10:00')]),
      dominantOffset([at('2026-11-20T10:00-05:00'), at('2026-11-20T10:00Z')]),
    ]).toEqual([0, -300]);
  });
});
