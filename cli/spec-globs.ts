import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkFrameGlobs, type FrameGlobCheck, type ListDir, toDirEntry } from '../protocol/glob-walk.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';

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
