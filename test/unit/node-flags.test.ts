import { describe, expect, it } from 'vitest';
import { devWorkerNodeFlags, heapLimitGiven, nodeFlagGiven } from '../../server/defaults.js';

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

describe('devWorkerNodeFlags: what `loop-station dev` starts its worker with', () => {
  it('caps the heap and bounds the young generation when NODE_OPTIONS sets neither', () => {
    expect(devWorkerNodeFlags(undefined)).toEqual(['--max-old-space-size=256', '--max-semi-space-size=8']);
    expect(devWorkerNodeFlags('--trace-warnings')).toEqual(['--max-old-space-size=256', '--max-semi-space-size=8']);
  });

  it('leaves out each flag the user’s NODE_OPTIONS already sets, in either spelling', () => {
    expect(devWorkerNodeFlags('--max-old-space-size=1024')).toEqual(['--max-semi-space-size=8']);
    expect(devWorkerNodeFlags('--max_semi_space_size=32')).toEqual(['--max-old-space-size=256']);
    expect(devWorkerNodeFlags('--max-semi-space-size=2 --max-old-space-size=512')).toEqual([]);
  });
});
