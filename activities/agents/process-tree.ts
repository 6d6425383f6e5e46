import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * Process-tree helpers. Agent CLIs start tool commands in sessions of their own, which a group kill
 * misses (docs/architecture.md#process-trees): we snapshot descendants through parent links. Two
 * ways to read the process table, chosen when called: `/proc` (Linux), else `ps` (macOS and other
 * systems without it). LOOP_STATION_PROCESS_TABLE=ps|proc forces one (the tests run the `ps` way on
 * Linux with it).
 */

export type ProcessTable = 'proc' | 'ps';

let procReadable: boolean | undefined;

/** How this process reads the process table now. */
export function processTable(): ProcessTable {
  const forced = process.env.LOOP_STATION_PROCESS_TABLE;
  if (forced === 'ps' || forced === 'proc') return forced;
  procReadable ??= existsSync('/proc/self/stat');
  return procReadable ? 'proc' : 'ps';
}

interface Row {
  pid: number;
  ppid: number;
  pgid: number;
  /** Session id. */
  sid: number;
  zombie: boolean;
  /** When it started, in clock ticks since boot (`/proc` only). */
  start?: number;
}

/**
 * A `/proc` stat file (`/proc/<pid>/stat`, `/proc/<pid>/task/<tid>/stat`): its fields after the
 * name, which may hold spaces and parentheses, so field N of proc(5) is at index N − 3. Throws
 * when the file is gone.
 */
export function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** `/proc/<pid>/stat` as a row. */
function procRow(pid: number): Row | undefined {
  try {
    const fields = statFields(`/proc/${pid}/stat`);
    return {
      pid,
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      sid: Number(fields[3]),
      zombie: fields[0] === 'Z',
      // Field 22 of stat, the 20th after the name.
      start: Number(fields[19]),
    };
  } catch {
    return undefined;
  }
}

/** `ps` with the given selection, one row per process (pid, ppid, pgid, session, state); [] when ps fails. */
function psRows(select: string[]): Row[] {
  // `sess` is the session id in procps and in the BSD ps of macOS alike.
  const ran = spawnSync('ps', [...select, '-o', 'pid=,ppid=,pgid=,sess=,stat='], { encoding: 'utf8', timeout: 10_000 });
  if (ran.status !== 0 && ran.stdout === '') return [];
  const rows: Row[] = [];
  for (const line of ran.stdout.split('\n')) {
    const [pid, ppid, pgid, sid, stat] = line.trim().split(/\s+/);
    if (!pid || !/^\d+$/.test(pid)) continue;
    rows.push({
      pid: Number(pid),
      ppid: Number(ppid),
      pgid: Number(pgid),
      sid: Number(sid),
      zombie: (stat ?? '').startsWith('Z'),
    });
  }
  return rows;
}

/** Every process of the table. */
function allRows(): Row[] {
  if (processTable() === 'ps') return psRows(['-A']);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const rows: Row[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const row = procRow(Number(entry));
    if (row) rows.push(row);
  }
  return rows;
}

function rowOf(pid: number): Row | undefined {
  return processTable() === 'ps' ? psRows(['-p', String(pid)])[0] : procRow(pid);
}

export function parentOf(pid: number): number | undefined {
  return rowOf(pid)?.ppid;
}

function descendantsIn(rows: readonly Row[], root: number): number[] {
  const children = new Map<number, number[]>();
  for (const row of rows) {
    const list = children.get(row.ppid) ?? [];
    list.push(row.pid);
    children.set(row.ppid, list);
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

const membersIn = (rows: readonly Row[], pgid: number): number[] =>
  rows.filter((row) => row.pgid === pgid && !row.zombie).map((row) => row.pid);

/** Every live descendant of `root` (not `root` itself). */
export function descendantsOf(root: number): number[] {
  return descendantsIn(allRows(), root);
}

/** Members of process group `pgid` that are still alive (zombies excluded). */
export function groupMembers(pgid: number): number[] {
  return membersIn(allRows(), pgid);
}

export function isAlive(pid: number): boolean {
  const row = rowOf(pid);
  return row !== undefined && !row.zombie;
}

/**
 * The command line of `pid` (arguments in order), or null when it is gone. From `ps` the
 * arguments come as one line split at spaces, so an argument holding a space is split too:
 * compare with commandLineHas, not by position.
 */
export function commandLine(pid: number): string[] | null {
  if (processTable() === 'ps') {
    const ran = spawnSync('ps', ['-ww', '-p', String(pid), '-o', 'command='], { encoding: 'utf8', timeout: 10_000 });
    const line = ran.stdout.trim();
    return ran.status === 0 && line !== '' ? line.split(/\s+/) : null;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
  } catch {
    return null;
  }
}

/** Whether `arg` is one of the arguments of `pid` (what adoption checks: our wrapper names its exit file). */
export function commandLineHas(pid: number, arg: string): boolean {
  if (processTable() === 'ps') {
    const line = commandLine(pid);
    return line !== null && ` ${line.join(' ')} `.includes(` ${arg} `);
  }
  return commandLine(pid)?.includes(arg) ?? false;
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
  // One read of the process table per round: with `ps` each read is a process of its own.
  const round = () => {
    const rows = allRows();
    const alive = new Set(rows.filter((r) => !r.zombie).map((r) => r.pid));
    return { rows, alive };
  };
  let table = round();
  const seen = new Set(descendantsIn(table.rows, pid));
  // Nothing of the tree is alive (a leader that ended alone, already reaped): nothing to signal,
  // and its pid, free again, may name another process by now.
  const treeAlive = () =>
    table.alive.has(pid) || membersIn(table.rows, pid).length > 0 || [...seen].some((p) => table.alive.has(p));
  if (!treeAlive()) return { survivors: [] };
  signal(pid, 'SIGTERM');
  signal(-pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  // Tools started in sessions of their own get a TERM of their own shortly after the leader's (a
  // quarter of the grace, at most 200 ms: an agent CLI gets that moment to end its tools itself).
  const straysAt = Date.now() + Math.min(200, graceMs / 4);
  let straysTold = false;
  while (Date.now() < deadline) {
    table = round();
    for (const d of descendantsIn(table.rows, pid)) seen.add(d);
    if (!straysTold && Date.now() >= straysAt) {
      straysTold = true;
      for (const p of seen) signal(p, 'SIGTERM');
    }
    if (!treeAlive()) return { survivors: [] };
    await sleep(25);
  }
  table = round();
  for (const d of descendantsIn(table.rows, pid)) seen.add(d);
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  for (const p of seen) signal(p, 'SIGKILL');
  const hardDeadline = Date.now() + 2000;
  let survivors: number[] = [];
  while (Date.now() < hardDeadline) {
    table = round();
    survivors = [...new Set([pid, ...seen, ...membersIn(table.rows, pid)])].filter((p) => table.alive.has(p));
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

/** Live members of process group `id` or of session `id` (a detached run's leader leads both), from one read of the table. */
export function groupOrSessionMembers(id: number): number[] {
  return allRows()
    .filter((row) => (row.pgid === id || row.sid === id) && !row.zombie)
    .map((row) => row.pid);
}

/** Live processes one of whose arguments is `arg` (a run's wrapper names its exit file). */
export function processesWithArg(arg: string): number[] {
  if (processTable() === 'ps') return psLinesWith(['-A', '-ww'], arg);
  return otherPids().filter((pid) => commandLine(pid)?.includes(arg) && isAlive(pid));
}

/** Other live processes whose `ps` line (`psArgs` choose what it shows after the pid) holds `word` between spaces. */
function psLinesWith(psArgs: string[], word: string): number[] {
  const ran = spawnSync('ps', [...psArgs, '-o', 'pid=,command='], {
    encoding: 'utf8',
    timeout: 10_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return ran.stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && ` ${m[2]} `.includes(` ${word} `))
    .map((m) => Number(m[1]))
    .filter((pid) => pid !== process.pid && isAlive(pid));
}

/** Every pid in /proc but this process's; none where /proc cannot be read. */
function otherPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
      .map(Number);
  } catch {
    return [];
  }
}

/** When `pid` started, in the process table's clock ticks; undefined once it is gone, or where the table has no such field (`ps`). */
export function startTicks(pid: number): number | undefined {
  return processTable() === 'proc' ? procRow(pid)?.start : undefined;
}

/**
 * Live processes of a run whose leader is `leader`, from one read of the table: members of its
 * group or session, and processes whose environment holds the run's marker. `since` is the leader's
 * start (startTicks): a process older than the run cannot carry its marker, so its environment is
 * not read. That read was most of the scan, which runs on the worker's main thread after every run
 * and grows with every process on the machine.
 */
export function runMembers(leader: number, marker: { name: string; value: string }, since?: number): number[] {
  if (processTable() === 'ps')
    return [...new Set([...groupOrSessionMembers(leader), ...processesWithEnv(marker.name, marker.value)])];
  const needle = `${marker.name}=${marker.value}`;
  const found: number[] = [];
  for (const pid of otherPids()) {
    const row = procRow(pid);
    if (!row || row.zombie) continue;
    if (row.pgid === leader || row.sid === leader) found.push(pid);
    else if (since === undefined || row.start === undefined || row.start >= since)
      try {
        if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle)) found.push(pid);
      } catch {
        // gone, or not ours to read
      }
  }
  return found;
}

/** The command line of `pid` as one line for people (arguments joined by spaces), or undefined once it is gone. */
export function commandText(pid: number): string | undefined {
  const line = commandLine(pid)?.join(' ');
  if (line !== undefined && line !== '') return line;
  if (processTable() === 'ps') return undefined;
  try {
    // A kernel thread or a process whose arguments are gone: its name, as ps shows it.
    return `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return undefined;
  }
}

/** Live processes whose environment holds `name=value` (processes of other users are not readable and not listed). */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  // BSD-style `e` prints each process's environment after its command, in procps and on macOS.
  if (processTable() === 'ps') return psLinesWith(['axeww'], needle);
  return otherPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle) && isAlive(pid);
    } catch {
      return false; // gone, or not ours to read
    }
  });
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
