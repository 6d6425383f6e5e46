import { describe, expect, it } from 'vitest';
import { heapLimitGiven, nodeFlagGiven } from '../../server/defaults.js';

describe('nodeFlagGiven: a V8 flag the user gave wins over the worker’s own', () => {
  it('finds a flag in node’s arguments or NODE_OPTIONS, with or without a value', () => {
    expect(heapLimitGiven(['--max-old-space-size=512'], undefined)).toBe(true);
    expect(heapLimitGiven([], '--trace-warnings  --max-old-space-size=1024')).toBe(true);
    expect(nodeFlagGiven('--optimize-for-size', ['--optimize-for-size'], undefined)).toBe(true);
  });

  it('reads V8’s other spelling and the --no- form as the user’s choice', () => {
    expect(heapLimitGiven(['--max_old_space_size=512'], undefined)).toBe(true);
    expect(nodeFlagGiven('--optimize-for-size', ['--no-optimize-for-size'], undefined)).toBe(true);
    expect(nodeFlagGiven('--optimize-for-size', ['--no-optimize_for_size'], '')).toBe(true);
  });

  it('does not take a flag for another that merely starts like it', () => {
    expect(heapLimitGiven(['--max-semi-space-size=16'], '--max-old-space')).toBe(false);
    expect(nodeFlagGiven('--optimize-for-size', ['--optimize-for-size-later'], '')).toBe(false);
    expect(heapLimitGiven([], undefined)).toBe(false);
  });
});
