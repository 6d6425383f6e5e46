import { describe, expect, test } from 'vitest';
import { externalFlagProblem } from './external-flag-input.js';
import { ExternalFlagInputSchema } from './schemas/messages.js';

describe('externalFlagProblem', () => {
  const cases: [string, unknown, string | null][] = [
    ['a flag name', { file: 'OUT-SESSION001-REVIEWER-DONE.flag' }, null],
    ['a flag name and its session', { file: 'x.flag', session: 3 }, null],
    ['no payload', undefined, 'the payload must be an object {file, session?}'],
    ['a string', 'x.flag', 'the payload must be an object {file, session?}'],
    ['an array', ['x.flag'], 'the payload must be an object {file, session?}'],
    ['no file', {}, 'file must be a flag file name of 1 to 256 characters'],
    ['an empty file', { file: '' }, 'file must be a flag file name of 1 to 256 characters'],
    ['a long file', { file: 'x'.repeat(257) }, 'file must be a flag file name of 1 to 256 characters'],
    ['a numeric file', { file: 7 }, 'file must be a flag file name of 1 to 256 characters'],
    ['session zero', { file: 'x.flag', session: 0 }, 'session must be a positive integer'],
    ['a fractional session', { file: 'x.flag', session: 1.5 }, 'session must be a positive integer'],
    ['an unknown field', { file: 'x.flag', path: '/etc' }, 'unknown field path'],
  ];
  test.for(cases)('%s: %j → %s', ([, raw, expected]) => {
    expect(externalFlagProblem(raw)).toBe(expected);
    // The zod schema agrees on what is valid.
    expect(ExternalFlagInputSchema.safeParse(raw).success).toBe(expected === null);
  });
});
