import type { Figure } from './result.js';

/** Summary statistics of one series of samples (milliseconds, megabytes, …). */
export interface Summary {
  n: number;
  min: number;
  median: number;
  max: number;
  mean: number;
  p99: number;
}

/** The value at quantile `q` (0–1) by linear interpolation between closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    median: quantile(sorted, 0.5),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    p99: quantile(sorted, 0.99),
  };
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** A figure from samples (median, min, max and p99 over them). */
export function figureOf(key: string, label: string, unit: string, values: readonly number[], digits = 1): Figure {
  const s = summarize(values);
  return {
    key,
    label,
    unit,
    n: s.n,
    min: round(s.min, digits),
    median: round(s.median, digits),
    max: round(s.max, digits),
    p99: round(s.p99, digits),
  };
}

/** A figure measured once (a total, a count, a ratio). */
export function scalarOf(key: string, label: string, unit: string, value: number, digits = 1): Figure {
  const v = round(value, digits);
  return { key, label, unit, n: 1, min: v, median: v, max: v };
}
