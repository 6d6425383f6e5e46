import { fileURLToPath } from 'node:url';

/** Where results go, and the order of sections in BENCH.md. */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
export const BENCH_MD = fileURLToPath(new URL('../../BENCH.md', import.meta.url));
export const SECTION_ORDER = [
  'handoff',
  'overhead',
  'concurrency',
  'waiting',
  'long',
  'stop',
  'startup',
  'chaos',
  'cluster-chaos',
] as const;
