/**
 * The local stack's defaults, in a module of their own so the CLI's declarations can show them
 * without loading the dev-server code. Kept in sync with docker-compose.yml and scripts/cluster.sh
 * (test/unit/compose.test.ts checks it).
 */
export const DEFAULTS = {
  port: 7233,
  uiPort: 8233,
  namespace: 'default',
  taskQueue: 'loop-station',
  dbFile: '.loop-station/temporal.db',
} as const;

/** The search attributes loop workflows upsert; an unregistered one fails the workflow task forever. */
export const SEARCH_ATTRIBUTES = {
  LoopName: 'Keyword',
  LoopPhase: 'Keyword',
  LoopSession: 'Int',
  LoopBest: 'Double',
} as const;

/**
 * A worker's V8 old-space limit (MB) when the user set none. V8 lets a heap grow to its default
 * limit (about 4 GB on a 24 GB machine) before it collects: 200 busy loops on one worker peaked near
 * 500 MB RSS, mostly garbage, and at 378 MB with this limit (2026-12-06; BENCH.md, `concurrency`).
 */
export const WORKER_HEAP_MB = 256;

/**
 * The most V8 may give each of a worker isolate's two young-generation semi-spaces (MB; V8's own
 * limit here is 16). Young garbage is most of a busy worker's, and both of its isolates (main and
 * workflow thread) keep their semi-spaces resident once grown: 200 busy loops on a worker with its
 * heap capped peaked at 383.1 and 385.8 MB RSS without this limit, 359.5 and 356.8 MB with it, at the
 * same throughput (2026-12-07, two interleaved pairs; 4 MB cost an eighth of the throughput).
 */
export const WORKER_SEMI_SPACE_MB = 8;

/**
 * The node flags `loop-station dev` starts its worker with: the heap capped from the start (both
 * threads) and the young generation bounded, each unless the user's NODE_OPTIONS sets it.
 */
export function devWorkerNodeFlags(nodeOptions: string | undefined): string[] {
  return [
    ...(heapLimitGiven([], nodeOptions) ? [] : [`--max-old-space-size=${WORKER_HEAP_MB}`]),
    ...(nodeFlagGiven('--max-semi-space-size', [], nodeOptions)
      ? []
      : [`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`]),
  ];
}

/**
 * Whether node was given V8 flag `flag` (`--max-old-space-size`), in either spelling (`-` or `_`),
 * with a value or in its `--no-` form, in its own arguments or NODE_OPTIONS: the user's wins.
 */
export function nodeFlagGiven(flag: string, execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const name = (arg: string) =>
    arg
      .replace(/^--(no-)?/, '')
      .split('=')[0]!
      .replaceAll('_', '-');
  const wanted = name(flag);
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => a.startsWith('--') && name(a) === wanted);
}

/** Whether node was given a heap limit already (see nodeFlagGiven). */
export function heapLimitGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return nodeFlagGiven('--max-old-space-size', execArgv, nodeOptions);
}
