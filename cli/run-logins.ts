import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runsDir } from '../protocol/layout.js';

/**
 * Which login, CLI version and model the agent runs of a loop used, read from their result files
 * (`runs/<AGENT>-<ROLE>.json`) when the loop root is on this machine: what `loop-station status`
 * shows beside the workflow's status (docs/agent-setup.md#logins).
 */

export interface RunLogin {
  session: number;
  run: string;
  login: string;
  cliVersion: string | null;
  model: string | null;
}

const RESULT = /^[A-Z0-9][A-Z0-9._]*-(EXECUTOR|REVIEWER|SUPERVISOR)\.json$/;

/** The runs of the latest session, at or before `session`, whose results name a login; [] when none is readable. */
export async function latestRunLogins(root: string, session: number): Promise<RunLogin[]> {
  for (let n = session; n >= 1; n--) {
    const dir = join(root, runsDir(n));
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => RESULT.test(name)).sort();
    } catch {
      continue;
    }
    const found: RunLogin[] = [];
    for (const name of names) {
      try {
        const result = JSON.parse(await readFile(join(dir, name), 'utf8')) as Record<string, unknown>;
        if (typeof result.login !== 'string') continue;
        found.push({
          session: n,
          run: name.slice(0, -'.json'.length),
          login: result.login,
          cliVersion: typeof result.cliVersion === 'string' ? result.cliVersion : null,
          model: typeof result.model === 'string' ? result.model : null,
        });
      } catch {
        // a result being written, or not ours: skip it
      }
    }
    if (found.length > 0) return found;
  }
  return [];
}

const LOGIN_WORDS: Record<string, string> = {
  subscription: 'subscription login',
  api_key: 'API key',
  none: 'no credentials',
};

/** `runs of session 003: CODEX-EXECUTOR on a subscription login (cli 0.169.0, model gpt-5-codex); …` */
export function renderRunLogins(runs: readonly RunLogin[]): string | undefined {
  if (runs.length === 0) return undefined;
  const items = runs.map(
    (r) => `${r.run} on ${LOGIN_WORDS[r.login] ?? r.login}` + ` (cli ${r.cliVersion ?? '?'}, model ${r.model ?? '?'})`,
  );
  return `runs of session ${String(runs[0]!.session).padStart(3, '0')}: ${items.join('; ')}`;
}
