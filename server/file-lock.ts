import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** Who holds a lock file: written into it on creation. */
interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: number;
}

export interface FileLockOptions {
  /** Called when the lock is busy, then every `noticeEveryMs` while waiting. */
  readonly onWait?: (holder: LockHolder, waitedMs: number) => void;
  /** @default 30_000 */
  readonly noticeEveryMs?: number;
  /** A lock older than this is taken over even if its process seems alive (pid reuse). @default 3_600_000 */
  readonly staleMs?: number;
  /** @default 500 */
  readonly pollMs?: number;
}

/**
 * Runs `fn` while holding `lockPath`, a file created with O_EXCL so separate processes (parallel
 * test runs, two terminals) exclude each other. A lock whose process is gone is taken over.
 * Limit: a lock held from another host over a shared disk is only taken over after `staleMs`.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const noticeEveryMs = options.noticeEveryMs ?? 30_000;
  const started = Date.now();
  let lastNotice = -Infinity;
  for (;;) {
    if (await tryCreate(lockPath)) break;
    const holder = await readHolder(lockPath);
    if (holder === 'gone') continue;
    if (holder === 'unreadable' ? await isOlderThan(lockPath, 10_000) : isStale(holder, options.staleMs ?? 3_600_000)) {
      // Rename first so that two waiters taking over the same stale lock cannot both succeed.
      await rename(lockPath, `${lockPath}.stale-${process.pid}`).then(
        () => rm(`${lockPath}.stale-${process.pid}`, { force: true }),
        () => undefined,
      );
      continue;
    }
    const waited = Date.now() - started;
    if (holder !== 'unreadable' && waited - lastNotice >= noticeEveryMs) {
      options.onWait?.(holder, waited);
      lastNotice = waited;
    }
    await sleep(options.pollMs ?? 500);
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx');
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: Date.now() };
    await handle.writeFile(JSON.stringify(holder));
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** `unreadable`: created but not yet written, or left empty by a crash (told apart by age). */
async function readHolder(lockPath: string): Promise<LockHolder | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch {
    return 'gone';
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.since !== 'number') return 'unreadable';
    return { pid: parsed.pid, host: String(parsed.host), since: parsed.since };
  } catch {
    return 'unreadable';
  }
}

async function isOlderThan(path: string, ms: number): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > ms;
}

function isStale(holder: LockHolder, staleMs: number): boolean {
  if (Date.now() - holder.since > staleMs) return true;
  return holder.host === hostname() && !isProcessAlive(holder.pid);
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
