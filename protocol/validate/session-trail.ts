import { type FlagName, flagKey, formatFlagName, readFlagName } from '../flag-name.js';
import { flagsDir, reviewsDir, sessionFilePath } from '../layout.js';
import type { FlagEvent, LifecycleEvent } from '../lifecycle.js';
import { type ParsedFlagBody, checkBodyIdentity, parseFlagBody } from '../schemas/flag-body.js';
import { type FindingCode, type FolderMode, makeFinding } from '../finding.js';
import type { Finding } from '../schemas/finding.js';
import { type ReviewRecord, parseReviewFlags, parseReviewRecord } from '../schemas/review-flags.js';
import type { Role } from '../vocabulary.js';
import type { SnapshotIndex } from './snapshot.js';

/** One session's flags and records as the lifecycle replays them, in §2.2 order. */

export interface TrailItem {
  event: LifecycleEvent;
  /** Flag file name, or the record text. */
  label: string;
  file: string;
  seq: number | null;
  timeMs: number | null;
  mtimeMs: number | null;
  /** Canonical position (§3.1) for ties. */
  rank: number;
  /** Flags only: the parsed body. */
  body?: ParsedFlagBody;
}

export interface TrailInput {
  session: number;
  mode: FolderMode;
  index: SnapshotIndex;
  rosterRoles: Readonly<Record<string, Role>>;
}

const TERMINAL = new Set(['DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT']);

/** §3.1 order of a flag or record, for ties in time. */
function canonicalRank(event: LifecycleEvent): number {
  if ('record' in event) return event.record.kind.endsWith('TIMEOUT') ? 9 : 10;
  const { role, status } = event.name;
  if (role === 'EXECUTOR') return status === 'RUNNING' ? 1 : status === 'HEARTBEAT' ? 2 : 3;
  if (role === 'SUPERVISOR') {
    const order: Record<string, number> = { RUNNING: 4, HEARTBEAT: 5, READY: 6, TIMEOUT: 11, VIOLATION: 11, DONE: 12, BLOCKED: 12, ABSTAIN: 12, REPAIRED: 13 };
    return order[status] ?? 11;
  }
  return status === 'STANDBY' ? 0 : status === 'RUNNING' ? 7 : status === 'HEARTBEAT' ? 8 : 9;
}

const timeOf = (text: string | undefined): number | null => {
  if (text === undefined) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
};

/** By `seq` when every item has one, else by time (body, row), then mtime, then §3.1 rank. */
function orderTrail(items: TrailItem[]): TrailItem[] {
  const bySeq = items.length > 0 && items.every((i) => i.seq !== null);
  const time = (i: TrailItem) => i.timeMs ?? i.mtimeMs ?? Number.POSITIVE_INFINITY;
  return [...items].sort((a, b) =>
    (bySeq ? a.seq! - b.seq! : time(a) - time(b) || (a.mtimeMs ?? 0) - (b.mtimeMs ?? 0)) || a.rank - b.rank || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

export interface CollectedTrail {
  items: TrailItem[];
  findings: Finding[];
}

/** Reads flags/session_NNN, review_flags.md rows and stand-in review files into an ordered trail. */
export function collectTrail(input: TrailInput): CollectedTrail {
  const { session, mode, index } = input;
  const findings: Finding[] = [];
  const add = (code: FindingCode, file: string, message: string, fix: string) => findings.push(makeFinding(mode, code, { session, file }, message, fix));
  const dir = flagsDir(session);
  const flags: (TrailItem & { event: FlagEvent; tag: string | null })[] = [];
  for (const name of index.list(dir)) {
    if (name.startsWith('.')) continue;
    const file = `${dir}/${name}`;
    const entry = index.get(file);
    if (entry?.kind !== 'file') {
      add('FLAG_NAME_INVALID', file, `${name} in ${dir} is a ${entry?.kind ?? 'folder'}, not a flag file`, `remove ${name} from ${dir}`);
      continue;
    }
    const read = readFlagName(name, { rosterRoles: input.rosterRoles });
    for (const issue of read.issues) {
      add(issue.code, file, issue.message, issue.code === 'LEGACY_FLAG_NAME' ? 'the engine writes strict names; nothing to do for an original folder' : 'rename it {AGENT}-SESSION{NNN}-{ROLE}-{STATUS}.flag, or remove it');
    }
    if (!read.flag) continue;
    if (read.flag.session !== session) {
      add('FLAG_WRONG_SESSION', file, `${name} names session ${read.flag.session} but sits in ${dir}`, `move it to ${flagsDir(read.flag.session)}, or remove it`);
      continue;
    }
    const body = parseFlagBody(entry.content ?? '');
    const mismatches = checkBodyIdentity(read.flag, body.fields);
    if (mismatches.length) {
      add('FLAG_BODY_MISMATCH', file, `${name}: body ${mismatches.map((m) => `${m.field} ${m.body} ≠ name's ${m.name}`).join(', ')}`, 'make the body state the identity the name gives (producer, role, session, status)');
    }
    const event: FlagEvent = { name: read.flag, isEngine: body.fields.writer === 'engine', file, ...(body.fields.repairs ? { repairs: body.fields.repairs } : {}) };
    flags.push({ event, label: name, file, seq: body.fields.seq ?? null, timeMs: timeOf(body.fields.timestamp), mtimeMs: entry.mtimeMs, rank: canonicalRank(event), body, tag: read.occurrenceTag });
  }
  renumberTagged(flags);

  const rowsPath = sessionFilePath(session, 'reviewFlags');
  const records: TrailItem[] = [];
  const rowsText = index.text(rowsPath);
  if (rowsText !== undefined) {
    const parsed = parseReviewFlags(rowsText);
    for (const problem of parsed.problems) add('ARTIFACT_SECTIONS_MISSING', rowsPath, `review_flags.md: ${problem}`, 'keep the table columns seq, timestamp, flag, record, meaning, action (docs/protocol.md#review-flags)');
    const seqByFlag = new Map<string, number>();
    parsed.rows.forEach((row, i) => {
      let record: ReviewRecord | undefined = row.record === null ? undefined : parseReviewRecord(row.record);
      if (!parsed.hasSeq && row.flag !== null) {
        // The original's table: a row naming a reviewer's terminal flag is its REVIEW_CONSUMED (§2.4).
        record = parseReviewRecord(row.flag);
        const named = record ? null : readFlagName(row.flag, { rosterRoles: input.rosterRoles }).flag;
        if (named?.role === 'REVIEWER' && TERMINAL.has(named.status)) record = { kind: 'REVIEW_CONSUMED', subject: named.agent };
      }
      if (record) {
        const event = { record };
        records.push({ event, label: `${String(i + 1).padStart(4, '0')} ${row.record ?? row.flag}`, file: rowsPath, seq: row.seq, timeMs: timeOf(row.timestamp), mtimeMs: null, rank: canonicalRank(event) });
      } else if (row.flag !== null && row.seq !== null) seqByFlag.set(row.flag, row.seq);
    });
    // An external flag's seq is that of its review_flags.md row (§2.2).
    for (const f of flags) if (f.seq === null) f.seq = seqByFlag.get(f.label) ?? null;
  }
  return { items: orderTrail([...flags, ...standIns(input, flags, add), ...records]), findings };
}

/** Legacy occurrence tags (`_2`, `-a`) are ordered by time and numbered 1..n (§2.4). */
function renumberTagged(flags: (TrailItem & { event: FlagEvent; tag: string | null })[]): void {
  const groups = new Map<string, typeof flags>();
  for (const f of flags) {
    const key = flagKey(f.event.name);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const group of groups.values()) {
    if (!group.some((f) => f.tag !== null)) continue;
    orderTrail(group).forEach((item, i) => {
      (item.event as FlagEvent).name = { ...(item.event as FlagEvent).name, occurrence: i + 1 };
    });
  }
}

/** A review file stands in for a missing terminal flag (SIGNAL_WITHOUT_FLAG, §2.4). */
function standIns(input: TrailInput, flags: readonly { event: FlagEvent }[], add: (code: FindingCode, file: string, message: string, fix: string) => void): TrailItem[] {
  const { session, index } = input;
  const dir = reviewsDir(session);
  const out: TrailItem[] = [];
  const terminalOf = new Set(flags.filter((f) => f.event.name.role === 'REVIEWER' && TERMINAL.has(f.event.name.status)).map((f) => f.event.name.agent));
  for (const name of index.list(dir)) {
    const read = readFlagName(name, { rosterRoles: input.rosterRoles });
    const flag = read.flag;
    const entry = index.get(`${dir}/${name}`);
    if (!flag || flag.role !== 'REVIEWER' || flag.session !== session || !['DONE', 'BLOCKED', 'ABSTAIN'].includes(flag.status) || terminalOf.has(flag.agent) || entry?.kind !== 'file') continue;
    terminalOf.add(flag.agent);
    const standIn: FlagName = { ...flag, occurrence: 1 };
    const file = `${dir}/${name}`;
    add('SIGNAL_WITHOUT_FLAG', file, `${name} has no ${formatFlagName(standIn)}: the review file stands in for it`, `write ${flagsDir(session)}/${formatFlagName(standIn)} when the review is done`);
    const event: FlagEvent = { name: standIn, isEngine: false, file };
    out.push({ event, label: name, file, seq: null, timeMs: null, mtimeMs: entry.mtimeMs, rank: canonicalRank(event) });
  }
  return out;
}
