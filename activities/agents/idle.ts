import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Stall detection (docs/architecture.md#agent-stalls): a run is idle when it printed nothing and
 * changed no file under its folders for the idle timeout. Output is checked every tick (file sizes);
 * the folders are walked only once output has been silent for the whole timeout, so a busy run costs
 * nothing and a quiet one one walk per timeout (about 1 s per 300 000 entries, measured in
 * test/process/idle-walk.test.ts).
 */

/** The newest modification time (epoch ms) of any entry under `dirs`, symlinks not followed; 0 when none. */
export function newestChange(dirs: readonly string[]): number {
  let newest = 0;
  const stack = [...dirs];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      newest = Math.max(newest, lstatSync(dir).mtimeMs);
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        const stat = lstatSync(path);
        newest = Math.max(newest, stat.mtimeMs);
        if (stat.isDirectory()) stack.push(path);
      } catch {
        // removed while we walked
      }
    }
  }
  return newest;
}

export interface IdleWatch {
  /** No output and no change under `dirs` for this long: stalled. */
  timeoutMs: number;
  /** Absolute folders whose changes count as activity: the loop root, the CLI's state folder. */
  dirs: readonly string[];
}

/**
 * Tracks the last sign of life of one run. `outputSeen` on every tick with the output size;
 * `stalled()` says whether the run has been idle for the timeout, walking the folders only when
 * output alone says so.
 */
export class IdleTracker {
  private lastActivity: number;
  private lastBytes = -1;

  constructor(
    private readonly watch: IdleWatch,
    now = Date.now(),
  ) {
    this.lastActivity = now;
  }

  outputSeen(bytes: number, now = Date.now()): void {
    if (bytes !== this.lastBytes) {
      this.lastBytes = bytes;
      this.lastActivity = now;
    }
  }

  /** Milliseconds since the last sign of life (output or a file change), as of the last check. */
  idleMs(now = Date.now()): number {
    return now - this.lastActivity;
  }

  stalled(now = Date.now()): boolean {
    if (now - this.lastActivity < this.watch.timeoutMs) return false;
    // A clock ahead of ours must not keep a run alive forever: a change counts up to now.
    const changed = Math.min(newestChange(this.watch.dirs), now);
    if (changed > this.lastActivity) this.lastActivity = changed;
    return now - this.lastActivity >= this.watch.timeoutMs;
  }
}
