import { readdirSync, readFileSync } from 'node:fs';

/**
 * Linux process-tree helpers. Agent CLIs start tool commands in sessions of their own, which a
 * group kill misses (docs/architecture.md#process-trees): we snapshot descendants through /proc parent links.
 */

export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `comm` may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (not `root` itself), found through /proc. */
export function descendantsOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Members of process group `pgid` that are still alive (zombies excluded). */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return members;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ends a detached agent and everything it started: SIGTERM the leader (agent CLIs reap their tools
 * on SIGTERM), then the group; after `graceMs` SIGKILL the group and every descendant seen.
 * Resolves once none of them is alive, or after `graceMs + 2 s` at most.
 */
export async function killTree(pid: number, graceMs = 1000): Promise<{ survivors: number[] }> {
  const seen = new Set(descendantsOf(pid));
  signal(pid, 'SIGTERM');
  signal(-pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  // Tools started in sessions of their own get a TERM of their own shortly after the leader's.
  const straysAt = Date.now() + Math.min(200, graceMs / 2);
  let straysTold = false;
  while (Date.now() < deadline) {
    for (const d of descendantsOf(pid)) seen.add(d);
    if (!straysTold && Date.now() >= straysAt) {
      straysTold = true;
      for (const p of seen) signal(p, 'SIGTERM');
    }
    if (!isAlive(pid) && groupMembers(pid).length === 0 && [...seen].every((p) => !isAlive(p)))
      return { survivors: [] };
    await sleep(25);
  }
  for (const d of descendantsOf(pid)) seen.add(d);
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  for (const p of seen) signal(p, 'SIGKILL');
  const hardDeadline = Date.now() + 2000;
  let survivors: number[] = [];
  while (Date.now() < hardDeadline) {
    survivors = [pid, ...seen, ...groupMembers(pid)].filter((p) => isAlive(p));
    if (survivors.length === 0) break;
    await sleep(25);
  }
  return { survivors };
}
