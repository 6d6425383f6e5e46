import type { BenchEnv } from '../lib/env.js';
import type { BenchOutcome } from '../lib/result.js';

export interface BenchOptions {
  /** Fewer sessions and repeats: for iterating, not for the figures in BENCH.md. */
  quick: boolean;
  log: (line: string) => void;
}

export interface Benchmark {
  title: string;
  run(env: BenchEnv, options: BenchOptions): Promise<BenchOutcome>;
}
