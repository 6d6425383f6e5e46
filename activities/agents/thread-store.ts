import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { sessionsRoot } from '../../protocol/layout.js';
import { resolveInRoot } from '../paths.js';

/**
 * A thread to resume must be in the CLI's state folder: Codex finds `resume <id>` in
 * `$CODEX_HOME/sessions/**\/rollout-*-<id>.jsonl`, Claude Code finds `--resume <id>` in
 * `$CLAUDE_CONFIG_DIR/projects/<folder>/<id>.jsonl` (and `<id>/` beside it). Each run has its own
 * state folder under its session's `runs/` (unless the spec lets the worker's own be used), so a
 * thread started in an earlier session is copied over before it is resumed.
 */

export type ThreadCli = 'codex' | 'claude';

/** Files under `dir` (relative paths) that hold thread `id`. */
function threadFiles(cli: ThreadCli, dir: string, id: string): string[] {
  const top = cli === 'codex' ? 'sessions' : 'projects';
  let names: string[];
  try {
    names = readdirSync(join(dir, top), { recursive: true, encoding: 'utf8' });
  } catch {
    return [];
  }
  const mine =
    cli === 'codex'
      ? (n: string) => n.endsWith(`-${id}.jsonl`)
      : (n: string) => n.endsWith(`/${id}.jsonl`) || n.split('/').at(-1) === id;
  return names.filter(mine).map((n) => join(top, n));
}

/** The state folders of this loop's runs of `cli` (`runs/*.codex-home`, `runs/*.claude`), newest session first. */
function loopStateDirs(root: string, suffix: string): string[] {
  const sessions = resolveInRoot(root, sessionsRoot);
  let folders: string[];
  try {
    folders = readdirSync(sessions).filter((n) => n.startsWith('session_'));
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const folder of folders.sort().reverse()) {
    const runs = join(sessions, folder, 'runs');
    let names: string[];
    try {
      names = readdirSync(runs);
    } catch {
      continue;
    }
    for (const name of names) if (name.endsWith(`.${suffix}`)) dirs.push(join(runs, name));
  }
  return dirs;
}

/**
 * Makes thread `id` resumable from `stateDir`: copies its files from the state folder of an earlier
 * run of this loop when `stateDir` lacks them. Returns where it came from, `present`, or null when
 * no run of this loop holds it (the CLI then reports the thread as unknown).
 */
export function carryThread(cli: ThreadCli, root: string, stateDir: string, id: string): string | 'present' | null {
  if (threadFiles(cli, stateDir, id).length > 0) return 'present';
  for (const source of loopStateDirs(root, cli === 'codex' ? 'codex-home' : 'claude')) {
    if (source === stateDir) continue;
    const files = threadFiles(cli, source, id);
    if (files.length === 0) continue;
    for (const file of files) {
      const target = join(stateDir, file);
      if (existsSync(target)) continue;
      cpSync(join(source, file), target, { recursive: true });
    }
    return relative(root, source) || dirname(source);
  }
  return null;
}

/**
 * Claude Code reports `total_cost_usd` for the whole session, across processes, even when its
 * transcript was carried into a fresh state folder: a run that resumes a session subtracts what
 * the session had cost by then. Each run keeps the last total it saw per session in
 * `runs/{AGENT}-{ROLE}.threads.json`, which a later run of the loop finds by session id.
 */
const threadsFile = (base: string) => `${base}.threads.json`;

/** Records `total` as session `id`'s cumulative cost after a run whose files are under `base` (root-relative). */
export function rememberThreadCost(root: string, base: string, id: string, total: number): void {
  const path = resolveInRoot(root, threadsFile(base));
  let known: Record<string, number> = {};
  try {
    known = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
  } catch {
    known = {};
  }
  known[id] = Math.max(known[id] ?? 0, total);
  writeFileSync(path, `${JSON.stringify(known, null, 2)}\n`);
}

/** The highest cumulative cost any run of this loop saw for session `id`; 0 when none did. */
export function threadCostSoFar(root: string, id: string): number {
  const sessions = resolveInRoot(root, sessionsRoot);
  let best = 0;
  let folders: string[];
  try {
    folders = readdirSync(sessions);
  } catch {
    return 0;
  }
  for (const folder of folders) {
    let names: string[];
    try {
      names = readdirSync(join(sessions, folder, 'runs'));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.endsWith('.threads.json'))) {
      try {
        const known = JSON.parse(readFileSync(join(sessions, folder, 'runs', name), 'utf8')) as Record<string, unknown>;
        const cost = known[id];
        if (typeof cost === 'number' && cost > best) best = cost;
      } catch {
        // a file being written, or not ours: skip it
      }
    }
  }
  return best;
}
