import type { Dirent } from 'node:fs';
import { copyFileSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { compileFolderGlobs, compileGlobs, type FolderGlobMatcher } from '../protocol/glob.js';
import { flagsRoot, loopStationDir, sessionDir, sessionsRoot, summariesDir, summaryPath } from '../protocol/layout.js';
import type { ExecutorFootprint } from '../protocol/schemas/state.js';
import { writeFileAtomic } from './flags.js';
import { resolveInRoot } from './paths.js';
import { isAbsent, readOptionalText } from './read-optional.js';
import { hashFiles } from './variants.js';

/**
 * What the executor changed beyond its own files (docs/protocol.md#executor-footprint): a cheap
 * snapshot (path → size, mtime, inode) of the loop root taken when the session opens, compared
 * with one taken after the executor's run. Two findings come out: files outside the workspace,
 * the protected files and loop_station/ that it changed (the candidate variant does not hold them,
 * so a best measured on them could not be restored), and the engine's own files under
 * loop_station/ that it changed (copied at the open, put back). The spec's scratch folders (run
 * outputs) are expected to change: not walked where a whole folder is scratch, never a finding.
 */

/** Folders no walk enters: version control, installed packages and caches (their churn is not the executor's change). */
const HEAVY_DIRS = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '__pycache__',
  '.venv',
  'venv',
  '.tox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.cache',
  '.ipynb_checkpoints',
]);

/**
 * The cost bound: a folder with more entries than this (a data folder) is recorded as one entry, its
 * own entry count and mtime (which move when a file in it is added, removed or renamed), not file by
 * file; and a walk stops after WALK_MAX_ENTRIES stats in all (the snapshot says it was cut short).
 * About 50 ms per 10,000 entries on a laptop disk.
 */
export const BIG_FOLDER_ENTRIES = 1000;
export const WALK_MAX_ENTRIES = 20_000;
/** The engine files copied at the open stop at this many bytes (newest sessions first); the rest are only checked. */
const BACKUP_MAX_BYTES = 8 * 1024 * 1024;

const guardDir = (session: number): string => `${sessionDir(session)}/engine_guard`;
const beforePath = (session: number): string => `${guardDir(session)}/before.json`;
const afterPath = (session: number): string => `${guardDir(session)}/after.json`;

interface Walked {
  entries: Record<string, string>;
  truncated: boolean;
  /** Entries stat'ed (the cost bound counts them). */
  count: number;
}

interface Snapshot {
  session: number;
  /** Outside loop_station/: path → `size:mtime:ino`, or `dir:count:mtime` for a big folder. */
  root: Walked;
  /** Under loop_station/, the engine's records (walkEngine). */
  engine: Walked;
  /** Workspace files → sha256 at the open: did the executor change the workspace at all? */
  workspace: Record<string, string>;
  /** Engine files copied under engine_guard/files/, to put back. */
  backups: string[];
}

const statKey = (info: { size: number; mtimeMs: number; ino: number }): string =>
  `${info.size}:${info.mtimeMs}:${info.ino}`;

/**
 * Walks `dir` (root-relative), depth first in name order, with the cost bound above. Synchronous
 * calls: each asynchronous one is a round trip through libuv's pool and the worker's busy event loop
 * (docs/performance.md#changes), and a walk makes hundreds.
 */
function walk(root: string, dir: string, keep: (path: string) => boolean, out: Walked): void {
  // Paths joined, not resolved: the walk lists what is in the root (lstat, and only real folders are
  // entered), and a link an agent left there, even one that leads out, is an entry like any other.
  let entries: Dirent[];
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch (error) {
    if (isAbsent(error)) return;
    throw error;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (out.count >= WALK_MAX_ENTRIES) {
      out.truncated = true;
      return;
    }
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (HEAVY_DIRS.has(entry.name) || !keep(`${path}/`)) continue;
      const count = readdirSync(join(root, path)).length;
      if (count > BIG_FOLDER_ENTRIES) {
        out.entries[`${path}/`] = `dir:${count}:${lstatSync(join(root, path)).mtimeMs}`;
        out.count++;
      } else walk(root, path, keep, out);
    } else if (keep(path)) stat(root, path, out);
  }
}

function stat(root: string, path: string, out: Walked): void {
  const info = lstatSync(join(root, path), { throwIfNoEntry: false });
  out.count++;
  if (info) out.entries[path] = statKey(info);
}

/**
 * The engine's records an executor of session `n` must leave alone, and that the report and the
 * next decisions read: loop_station/'s own files (leaderboard.csv, contract.json, FRAME.md…), the
 * summaries but the session ledger (a human message rewrites it while the executor runs), and each
 * earlier session's decision.md and metrics.json. Not every file of every earlier session: a
 * 1000-session loop holds tens of thousands, and a walk of them each session would cost more than
 * the session (flags are never rewritten, and validate checks the rest).
 */
function walkEngine(root: string, n: number, out: Walked): void {
  const list = (dir: string): Dirent[] => {
    try {
      return readdirSync(join(root, dir), { withFileTypes: true });
    } catch (error) {
      if (isAbsent(error)) return [];
      throw error;
    }
  };
  for (const e of list(loopStationDir)) if (!e.isDirectory()) stat(root, `${loopStationDir}/${e.name}`, out);
  for (const e of list(summariesDir))
    if (!e.isDirectory() && `${summariesDir}/${e.name}` !== summaryPath('sessionLedger'))
      stat(root, `${summariesDir}/${e.name}`, out);
  for (const e of list(sessionsRoot)) {
    const m = /^session_(\d+)$/.exec(e.name);
    if (!e.isDirectory() || !m || Number(m[1]) >= n) continue;
    for (const file of ['decision.md', 'metrics.json']) {
      const path = `${sessionsRoot}/${e.name}/${file}`;
      if (lstatSync(join(root, path), { throwIfNoEntry: false })) stat(root, path, out);
    }
  }
}

/** Copied at the open to be put back: loop_station/'s own files and the summaries, and the last two sessions' records. */
function backedUp(path: string, n: number): boolean {
  const m = new RegExp(`^${sessionsRoot}/session_(\\d+)/`).exec(path);
  return m ? Number(m[1]) >= n - 2 : true;
}

function walkAll(root: string, session: number, scratch: FolderGlobMatcher): Pick<Snapshot, 'root' | 'engine'> {
  const outside: Walked = { entries: {}, truncated: false, count: 0 };
  // A scratch folder (checkpoints, wandb) can hold thousands of files: left out of the walk, so it spends no entries.
  const keep = (path: string) =>
    path !== `${loopStationDir}/` && !(path.endsWith('/') && scratch.coversAll(path.slice(0, -1)));
  walk(root, '', keep, outside);
  const engine: Walked = { entries: {}, truncated: false, count: 0 };
  walkEngine(root, session, engine);
  return { root: outside, engine };
}

/** At the open, after any restore: the snapshot, and copies of the engine's records. */
export async function takeFootprintSnapshot(input: {
  root: string;
  session: number;
  workspace: readonly string[];
  /** The spec's scratch patterns (absent: none). */
  scratch?: readonly string[] | undefined;
}): Promise<void> {
  const { root, session } = input;
  const walked = walkAll(root, session, compileFolderGlobs(input.scratch ?? []));
  const workspace = Object.fromEntries(
    (await hashFiles(root, input.workspace)).map((f) => [f.path, f.sha256] as const),
  );
  const ranked = Object.entries(walked.engine.entries)
    .filter(([path]) => backedUp(path, session))
    .map(([path, key]) => ({ path, size: Number(key.split(':')[0]) }));
  const backups: string[] = [];
  let bytes = 0;
  // Synchronous, like the walk: a dozen or more files each session, on the open's path.
  const made = new Set<string>();
  for (const f of ranked) {
    if (bytes + f.size > BACKUP_MAX_BYTES) break;
    bytes += f.size;
    if (lstatSync(join(root, f.path), { throwIfNoEntry: false })?.isSymbolicLink() !== false) continue;
    const target = resolveInRoot(root, `${guardDir(session)}/files/${f.path}`);
    if (!made.has(dirname(target))) {
      mkdirSync(dirname(target), { recursive: true });
      made.add(dirname(target));
    }
    copyFileSync(resolveInRoot(root, f.path), target);
    backups.push(f.path);
  }
  const snapshot: Snapshot = { session, ...walked, workspace, backups };
  await writeFileAtomic(root, beforePath(session), `${JSON.stringify(snapshot)}\n`);
}

/** Paths whose entry differs, appeared or vanished. */
function differing(before: Walked, after: Walked): { changed: string[]; added: string[]; removed: string[] } {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [path, key] of Object.entries(after.entries)) {
    const was = before.entries[path];
    if (was === undefined) added.push(path);
    else if (was !== key) changed.push(path);
  }
  for (const path of Object.keys(before.entries)) if (!(path in after.entries)) removed.push(path);
  return { changed, added, removed };
}

/**
 * After the executor's run: what it changed outside the workspace and in the engine's files, the
 * latter put back from the copies. The findings are kept (after.json), so a retry returns them
 * even though the engine files are back in place.
 */
export async function inspectFootprint(input: {
  root: string;
  session: number;
  workspace: readonly string[];
  protected: readonly string[];
  /** The spec's scratch patterns (absent: none): their changes are expected, not findings. */
  scratch?: readonly string[] | undefined;
  /**
   * The workspace's hashes as this activity already read them after the executor (the candidate
   * snapshot's): the same files, so they are not hashed again. Absent: hashed here.
   */
  workspaceHashes?: readonly { path: string; sha256: string }[] | undefined;
}): Promise<ExecutorFootprint | null> {
  const { root, session } = input;
  const kept = await readOptionalText(root, afterPath(session));
  if (kept !== null) return JSON.parse(kept) as ExecutorFootprint;
  const text = await readOptionalText(root, beforePath(session));
  // A session opened by an engine before this check has no snapshot: nothing to compare with.
  if (text === null) return null;
  const before = JSON.parse(text) as Snapshot;
  const scratch = compileFolderGlobs(input.scratch ?? []);
  const after = walkAll(root, session, scratch);
  const inScope = compileGlobs([...input.workspace, ...input.protected]);
  const outside = differing(before.root, after.root);
  // A snapshot taken by an engine that walked scratch folders lists their files: they are left out here too.
  const notOurs = (path: string) =>
    !inScope.includes(path.replace(/\/$/, '')) && !scratch.includes(path.replace(/\/$/, ''));
  const engine = differing(before.engine, after.engine);
  // A late external reviewer may add a flag to an earlier session's folder; a flag is never rewritten or removed.
  const forged = [
    ...engine.changed,
    ...engine.removed,
    ...engine.added.filter((p) => !p.startsWith(`${flagsRoot}/`)),
  ].sort();
  const restored: string[] = [];
  for (const path of forged) {
    if (!before.backups.includes(path)) continue;
    // The folder through the root check; the file itself by name, so a link the executor put in its place goes.
    const folder = resolveInRoot(root, dirname(path));
    await mkdir(folder, { recursive: true });
    const target = join(folder, basename(path));
    await rm(target, { force: true });
    await copyFile(resolveInRoot(root, `${guardDir(session)}/files/${path}`), target);
    restored.push(path);
  }
  const workspaceNow = input.workspaceHashes ?? (await hashFiles(root, input.workspace));
  const workspaceChanged =
    workspaceNow.length !== Object.keys(before.workspace).length ||
    workspaceNow.some((f) => before.workspace[f.path] !== f.sha256);
  const footprint: ExecutorFootprint = {
    outside: [...outside.changed, ...outside.added, ...outside.removed].filter(notOurs).sort(),
    workspaceChanged,
    engineFiles: forged,
    restored,
    truncated: before.root.truncated || after.root.truncated || before.engine.truncated || after.engine.truncated,
  };
  await writeFileAtomic(root, afterPath(session), `${JSON.stringify(footprint, null, 2)}\n`);
  return footprint;
}
