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
