/** The loop-root path checks, shared with the dashboard: see server/loop-roots.ts. */
export { assertRootAllowed, resolveInRoot } from '../server/loop-roots.js';
