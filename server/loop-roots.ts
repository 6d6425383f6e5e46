import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';

/**
 * Confines every path to the loop root (docs/protocol.md#paths) and loop roots to the allowed folders
 * (docs/operations.md#allowed-roots): the worker's activities and the dashboard (a client, which may
 * not import activities/) share it.
 */

/** Crosses Temporal as an ApplicationFailure of this type name (protocol/failure-types.ts). */
export class PathEscapeError extends Error {
  override readonly name = 'PathEscapeError';
  readonly code = 'PATH_ESCAPE';
  constructor(
    readonly root: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(
      `${path}: ${reason} (loop root ${root}); use a POSIX path relative to the root, without .., backslashes or symlinks that leave it`,
    );
  }
}

export class RootNotAllowedError extends Error {
  override readonly name = 'RootNotAllowedError';
  constructor(
    readonly root: string,
    readonly allowedRoots: readonly string[],
  ) {
    super(
      `${root}: not under an allowed output root (${allowedRoots.join(', ') || 'none configured'}); move the loop root there, or start the worker with this root allowed`,
    );
  }
}

const within = (parent: string, child: string): boolean =>
  child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/** The C library's realpath: less than half the time of Node's own, which lstats each component in JS (it runs on every path of every file step). */
function tryRealpath(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}

/** Where `p` really points: its realpath, or for a dangling symlink, its resolved target. */
function realTarget(p: string): string | undefined {
  const real = tryRealpath(p);
  if (real !== undefined) return real;
  try {
    if (!lstatSync(p).isSymbolicLink()) return undefined;
    return resolve(dirname(p), readlinkSync(p));
  } catch {
    return undefined;
  }
}

/**
 * Absolute path of `relPath` under `root`. Refuses absolute paths, `..` segments, backslashes, NUL
 * and a symlink anywhere on the way whose target leaves the root (checked on the deepest existing
 * ancestor). Synchronous so every caller can use it inline.
 */
export function resolveInRoot(root: string, relPath: string): string {
  const refuse = (reason: string) => new PathEscapeError(root, relPath, reason);
  if (relPath.includes('\0')) throw refuse('contains NUL');
  if (relPath.includes('\\')) throw refuse('contains a backslash');
  if (isAbsolute(relPath) || relPath.startsWith('/')) throw refuse('is absolute');
  if (relPath.split('/').includes('..')) throw refuse('has a .. segment');
  const absRoot = resolve(root);
  const abs = relPath === '' || relPath === '.' ? absRoot : join(absRoot, relPath);
  const realRoot = tryRealpath(absRoot);
  // Nothing under a missing root exists yet, so nothing there can be a link.
  if (realRoot === undefined) return abs;
  for (let p = abs; within(absRoot, p); p = dirname(p)) {
    let exists = true;
    try {
      lstatSync(p);
    } catch {
      exists = false;
    }
    if (!exists) continue;
    const target = realTarget(p);
    if (target === undefined || !within(realRoot, target))
      throw refuse(`resolves through ${p} to ${target ?? 'an unreadable link'}, outside the root`);
    break;
  }
  return abs;
}

/**
 * Where a path leads once every link on it is followed, also when its end does not exist yet: a
 * dangling link is followed to its target, a missing name is joined to its parent's real path.
 */
function realPathLenient(p: string, hops = 0): string {
  const real = tryRealpath(p);
  if (real !== undefined || hops > 40) return real ?? p;
  try {
    if (lstatSync(p).isSymbolicLink()) return realPathLenient(resolve(dirname(p), readlinkSync(p)), hops + 1);
  } catch {
    // missing: resolve the parent
  }
  const parent = dirname(p);
  return parent === p ? p : join(realPathLenient(parent, hops + 1), basename(p));
}

/** Loop roots must lie under the allowed roots (the worker writes, the dashboard reads only there), judged by where the root really leads. */
export function assertRootAllowed(root: string, allowedRoots: readonly string[]): void {
  const real = (p: string) => realPathLenient(resolve(p));
  const target = real(root);
  if (!allowedRoots.some((allowed) => within(real(allowed), target))) throw new RootNotAllowedError(root, allowedRoots);
}
