import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PatternSyntax } from '../protocol/glob.js';
import { type ListDir, type MatchedFile, toDirEntry, walkGlobs } from '../protocol/glob-walk.js';
import { isAbsent } from './read-optional.js';

/** A folder's entries under `root`; a missing folder has none, any other failure is a fault. */
export const listUnder =
  (root: string): ListDir =>
  async (dir) =>
    (
      await readdir(join(root, dir), { withFileTypes: true }).catch((error: unknown) =>
        isAbsent(error) ? [] : Promise.reject(error),
      )
    ).map(toDirEntry);

/** Files under `root` matching the pattern list (protocol/glob.ts), as sorted POSIX relative paths. */
export async function matchFiles(
  root: string,
  globs: readonly string[],
  syntax: PatternSyntax = 'picomatch',
): Promise<MatchedFile[]> {
  return walkGlobs(listUnder(root), globs, syntax);
}
