import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../activities/agents/process-tree.js';

/** Names the run's folder in the environment, so test files (and what they start) know it. */
export const RUN_TMPDIR_ENV = 'LOOP_STATION_TEST_TMPDIR';
export const RUN_TMPDIR_PREFIX = 'loop-station-tests-';

/**
 * One temp folder per test run, removed when the run ends. Test files make their loop roots, HOMEs
 * and scratch folders with os.tmpdir(), and the programs they start (agents, CLIs, Chromium, the
 * Temporal server) follow TMPDIR: with TMPDIR pointed here, all of it lands in this folder. Before,
 * a run left about 400 folders, some 300 MB, in /tmp (2026-12-07). Called from vitest.config.ts,
 * which vitest loads once in its main process; the test processes it forks inherit TMPDIR, and the
 * variable keeps a second load from making a second folder. A run killed with SIGKILL cannot remove
 * its folder: the next run does (removeStaleRunTmpdirs).
 */
export function useRunTmpdir(): string {
  const existing = process.env[RUN_TMPDIR_ENV];
  if (existing) return existing;
  removeStaleRunTmpdirs(tmpdir());
  const dir = mkdtempSync(join(tmpdir(), RUN_TMPDIR_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
  process.env[RUN_TMPDIR_ENV] = dir;
  process.env.TMPDIR = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** In each run's folder: the pid of the process that made it (vitest's main process). */
export const OWNER_FILE = 'owner.pid';

/**
 * Removes the folders in `parent` that runs killed before their exit handler left: those whose
 * owner's pid is gone. A folder without an owner file, or whose owner still runs (another run at
 * the same time), stays. Returns the folders removed.
 */
export function removeStaleRunTmpdirs(parent: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(RUN_TMPDIR_PREFIX)) continue;
    let owner: number;
    try {
      owner = Number(readFileSync(join(parent, name, OWNER_FILE), 'utf8').trim());
    } catch {
      continue;
    }
    if (!Number.isSafeInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
