/**
 * Local errors of the protocol-side activities (paths, flags), with structured fields. They cross
 * Temporal as ApplicationFailures whose `type` is the class name (protocol/failure-types.ts).
 */

// The path errors live with the checks that throw them, which the dashboard (a client) uses too.
export { PathEscapeError, RootNotAllowedError } from '../server/loop-roots.js';

export class FlagCollisionError extends Error {
  override readonly name = 'FlagCollisionError';
  readonly code = 'FLAG_COLLISION';
  constructor(
    readonly root: string,
    readonly path: string,
  ) {
    super(`${path}: FLAG_COLLISION: the flag exists with other bytes and its status does not repeat (under ${root}); flags are never rewritten: find the second writer of this flag, then resume`);
  }
}

export class FileReadError extends Error {
  override readonly name = 'FileReadError';
  constructor(
    readonly root: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${path}: cannot be read: ${cause instanceof Error ? cause.message : String(cause)} (loop root ${root}); make it a readable regular file, then resume`, { cause });
  }
}
