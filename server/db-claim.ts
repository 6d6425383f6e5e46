import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { DevServerDbInUseError } from './errors.js';
import { isProcessAlive } from './file-lock.js';

interface ClaimRecord {
  readonly pid: number;
  readonly address?: string;
}

export interface DbClaim {
  /** Records the server that now holds the file, so a second start can name it. */
  record(pid: number, address: string): Promise<void>;
  /** Removes the claim if it is still ours. */
  release(): Promise<void>;
}

/**
 * Claims a dev server database with `<dbFile>.pid`. SQLite lets two dev servers open one file and
 * both would run the same history shards; this refuses the second start with the first's address.
 * A claim whose process is gone (crash, SIGKILL) is taken over.
 */
export async function claimDbFile(dbFile: string): Promise<DbClaim> {
  const claimPath = `${dbFile}.pid`;
  let owner = process.pid;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(claimPath, 'wx');
      await handle.writeFile(JSON.stringify({ pid: owner } satisfies ClaimRecord));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const existing = await readClaim(claimPath);
    if (existing !== undefined && (await isServerProcess(existing.pid, dbFile)))
      throw new DevServerDbInUseError(dbFile, existing.pid, existing.address);
    await rm(claimPath, { force: true });
  }
  return {
    record: async (pid, address) => {
      owner = pid;
      await writeFile(claimPath, JSON.stringify({ pid, address } satisfies ClaimRecord));
    },
    release: async () => {
      if ((await readClaim(claimPath))?.pid === owner) await rm(claimPath, { force: true });
    },
  };
}

/** The dev server recorded as holding `dbFile`, if it still runs (e.g. one started detached earlier). */
export async function findDevServer(dbFile: string): Promise<{ pid: number; address?: string } | undefined> {
  const claim = await readClaim(`${dbFile}.pid`);
  return claim !== undefined && claim.address !== undefined && (await isServerProcess(claim.pid, dbFile))
    ? claim
    : undefined;
}

async function readClaim(claimPath: string): Promise<ClaimRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(claimPath, 'utf8')) as Partial<ClaimRecord>;
    return typeof parsed.pid === 'number'
      ? { pid: parsed.pid, ...(parsed.address ? { address: parsed.address } : {}) }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Alive, and on Linux also running with this database (guards against pid reuse). */
async function isServerProcess(pid: number, dbFile: string): Promise<boolean> {
  if (!isProcessAlive(pid)) return false;
  if (pid === process.pid) return true; // claimed by this process, server not started yet
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline === undefined || cmdline.includes(dbFile) || cmdline.includes('node');
}
