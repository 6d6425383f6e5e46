import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { testdir } from './testdir.js';

/**
 * A HOME of the test file's own while it runs the real agent CLIs. Claude Code's Bash tool and
 * Codex's login shell source the profile of the machine's user, and its side effects reach the
 * tests: pyenv's `init` rehashes under a lock file that a test ending a run mid-profile leaves
 * behind, and every later shell then waits 60 s for it (one CI run: a review 3 s late, a session
 * 70 s long). The caches stay where they were (XDG_CACHE_HOME), so nothing is bundled or installed
 * again. Call at the top of a test file, before the hooks that start its worker.
 */
export function useAgentHome(): void {
  let saved: { HOME: string | undefined; XDG_CACHE_HOME: string | undefined } | undefined;
  beforeAll(async () => {
    saved = { HOME: process.env.HOME, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
    if (process.env.XDG_CACHE_HOME === undefined && process.env.HOME !== undefined)
      process.env.XDG_CACHE_HOME = join(process.env.HOME, '.cache');
    process.env.HOME = await testdir({}, 'loop-station-home-');
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved ?? {})) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}
