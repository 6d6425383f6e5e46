import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Names the run's folder in the environment, so test files (and what they start) know it. */
export const RUN_TMPDIR_ENV = 'LOOP_STATION_TEST_TMPDIR';
export const RUN_TMPDIR_PREFIX = 'loop-station-tests-';

/**
 * One temp folder per test run, removed when the run ends. Test files make their loop roots, HOMEs
 * and scratch folders with os.tmpdir(), and the programs they start (agents, CLIs, Chromium, the
 * Temporal server) follow TMPDIR: with TMPDIR pointed here, all of it lands in this folder. Before,
 * a run left about 400 folders, some 300 MB, in /tmp (2026-12-07). Called from vitest.config.ts,
 * which vitest loads once in its main process; the test processes it forks inherit TMPDIR, and the
 * variable keeps a second load from making a second folder. A run killed with SIGKILL leaves its
 * folder behind, as any process's temp files.
 */
export function useRunTmpdir(): string {
  const existing = process.env[RUN_TMPDIR_ENV];
  if (existing) return existing;
  const dir = mkdtempSync(join(tmpdir(), RUN_TMPDIR_PREFIX));
  process.env[RUN_TMPDIR_ENV] = dir;
  process.env.TMPDIR = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
