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

/**
 * What an agent left behind (docs/architecture.md#agent-leftovers): processes it started that
 * outlive it. A `nohup job &` in a tool command leaves the tool's session and is re-parented to
 * init, so neither the group nor the parent links find it; the variable every process of a run
 * inherits does (`processesWithEnv`).
 */

/** Live members of session `sid` (zombies excluded). */
export function sessionMembers(sid: number): number[] {
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
      if (fields[0] !== 'Z' && Number(fields[3]) === sid) members.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return members;
}

/** The command line of `pid` (arguments joined by spaces), or undefined once it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const line = raw.split('\0').filter(Boolean).join(' ');
    if (line !== '') return line;
    return `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return undefined;
  }
}

/** Live processes whose environment holds `name=value` (processes of other users are not readable and not listed). */
export function processesWithEnv(name: string, value: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const needle = `${name}=${value}`;
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(needle) && isAlive(Number(entry)))
        found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** SIGTERM to every pid, SIGKILL after `graceMs` to those still alive; resolves with those that survived even that. */
export async function killAll(pids: readonly number[], graceMs = 1000): Promise<number[]> {
  for (const p of pids) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some((p) => isAlive(p))) await sleep(25);
  for (const p of pids) if (isAlive(p)) signal(p, 'SIGKILL');
  const hardDeadline = Date.now() + 2000;
  while (Date.now() < hardDeadline && pids.some((p) => isAlive(p))) await sleep(25);
  return pids.filter((p) => isAlive(p));
}
