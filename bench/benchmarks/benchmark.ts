import type { BenchEnv } from '../lib/env.js';
import type { BenchOutcome } from '../lib/result.js';

export interface BenchOptions {
  /** Fewer sessions and repeats: for iterating, not for the figures in BENCH.md. */
  quick: boolean;
  log: (line: string) => void;
}

export interface Benchmark {
  title: string;
  local?: false;
  run(env: BenchEnv, options: BenchOptions): Promise<BenchOutcome>;
}

/** What a benchmark that needs no Temporal server gets: the binary (for the machine line and comparisons). */
export interface LocalBenchEnv {
  readonly binary: string;
  log(line: string): void;
}

/** A benchmark that starts no dev server (e.g. CLI start times). */
export interface LocalBenchmark {
  title: string;
  local: true;
  run(env: LocalBenchEnv, options: BenchOptions): Promise<BenchOutcome>;
}

/** Either kind, as bench/run.ts holds them. */
export type AnyBenchmark = Benchmark | LocalBenchmark;
