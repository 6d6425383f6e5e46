import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkFrameGlobs, type FrameGlobCheck, type ListDir, toDirEntry } from '../protocol/glob-walk.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import { readContract } from '../protocol/schemas/contract.js';
import { contractPath } from '../protocol/layout.js';

/** A folder's entries under `root` for the pattern walk; a missing folder has none. */
export const listUnder =
  (root: string): ListDir =>
  async (dir) =>
    (
      await readdir(join(root, dir), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) =>
        ['ENOENT', 'ENOTDIR'].includes(error.code ?? '') ? [] : Promise.reject(error),
      )
    ).map(toDirEntry);

/**
 * The frame-lock pattern checks, run by the client before it starts a loop when it can read the
 * root; the worker runs them again (the root may live on its machine only). Null when unreadable.
 */
export async function checkSpecGlobs(config: LoopConfig): Promise<FrameGlobCheck | null> {
  const readable = await stat(config.root).then(
    (s) => s.isDirectory(),
    () => false,
  );
  return readable ? checkFrameGlobs(listUnder(config.root), config.root, config) : null;
}

/**
 * The loop a root already holds (its contract.json's workflow id, or the original skill's), when
 * the client can read the root; null otherwise. The worker refuses such a root at frame lock: the
 * client says so before it starts anything.
 */
export async function loopInRoot(root: string): Promise<string | null> {
  const text = await readFile(join(root, contractPath), 'utf8').catch(() => null);
  if (text === null) return null;
  return readContract(text).contract?.workflow_id ?? 'a loop written by the original skill';
}
