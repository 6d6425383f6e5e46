import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FileReadError } from './errors.js';
import { resolveInRoot } from './paths.js';

/** Reading files that may not exist yet, without taking a fault for an absence. */

/**
 * Files up to this size are read (hashed, copied) with the synchronous calls: microseconds from the
 * page cache, where each asynchronous call waits its turn on the worker's busy event loop (flags.ts
 * says what that measured). Bigger ones go through the thread pool, so a large file an agent left
 * never blocks the worker.
 */
export const SYNC_IO_MAX_BYTES = 1 << 20;

/** ENOENT, or ENOTDIR (a parent on the way is a file): the file is not there. Every other error is a fault. */
export const isAbsent = (error: unknown): boolean =>
  ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException | null)?.code ?? '');

/**
 * The text of `rel` under `root`, or null when it is absent. A path leaving the root throws
 * PathEscapeError; any other failure (EACCES, EISDIR, EIO) throws FileReadError with its cause.
 */
export async function readOptionalText(root: string, rel: string): Promise<string | null> {
  const abs = resolveInRoot(root, rel);
  try {
    return statSync(abs).size <= SYNC_IO_MAX_BYTES ? readFileSync(abs, 'utf8') : await readFile(abs, 'utf8');
  } catch (error) {
    if (isAbsent(error)) return null;
    throw new FileReadError(root, rel, error);
  }
}
