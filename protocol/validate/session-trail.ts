import { type FlagName, formatFlagName, readFlagName } from '../flag-name.js';
import { flagsDir, reviewsDir, sessionFilePath } from '../layout.js';
import type { FlagEvent, LifecycleEvent } from '../lifecycle.js';
import { parseHeaderLines } from '../markdown.js';
import { type ParsedFlagBody, checkBodyIdentity, parseFlagBody } from '../schemas/flag-body.js';
import { type FindingCode, type FolderMode, makeFinding } from '../finding.js';
import type { Finding } from '../schemas/finding.js';
import {
  type ReviewRecord,
  flagCellName,
  parseReviewFlags,
  parseReviewRecord,
  readOriginalTimeoutRecords,
} from '../schemas/review-flags.js';
import { type LooseTimestamp, parseLooseTimestamp } from '../timestamp.js';
import type { Role } from '../vocabulary.js';
import type { SnapshotIndex } from './snapshot.js';

/** One session's flags and records as the lifecycle replays them; trail-order.ts puts them in §2.2 order. */

export interface Interval {
  startMs: number;
  spanMs: number;
}

export interface TrailItem {
  event: LifecycleEvent;
  /** Flag file name, or the record text. */
  label: string;
  file: string;
  seq: number | null;
  /** The time written in the flag body or table row (a row without one takes its neighbour's). */
  stamp: LooseTimestamp | null;
  mtimeMs: number | null;
  /** When it happened, set by orderTrail: the stamp, else mtime, else (an undated record) the close. */
  at: Interval | null;
  /** Canonical position (§3.1) for ties. */
  rank: number;
  /** Flags only: the parsed body. */
  body?: ParsedFlagBody;
  /** Flags only: a legacy occurrence tag (`_2`, `-a`), renumbered in trail order. */
  tag?: string | null;
  /** A consumption row of the original's table: the reviewer whose terminal flag it names. */
  consumes?: string;
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
    const order: Record<string, number> = {
      RUNNING: 4,
      HEARTBEAT: 5,
      READY: 6,
      TIMEOUT: 11,
      VIOLATION: 11,
      DONE: 12,
      BLOCKED: 12,
      ABSTAIN: 12,
      REPAIRED: 13,
    };
    return order[status] ?? 11;
  }
  return status === 'STANDBY' ? 0 : status === 'RUNNING' ? 7 : status === 'HEARTBEAT' ? 8 : 9;
}

export interface CollectedTrail {
  /** In no particular order: orderTrail sorts them once the folder's zone is known. */
  items: TrailItem[];
  findings: Finding[];
}

type Add = (code: FindingCode, file: string, message: string, fix: string) => void;

const UNREADABLE_FIX = 'write times as ISO-8601, such as 2026-11-20T10:06:30Z or 2026-11-20 10:06 +09:00';

/** Reads flags/session_NNN, review_flags.md rows and stand-in review files. */
export function collectTrail(input: TrailInput): CollectedTrail {
  const { session, mode } = input;
  const findings: Finding[] = [];
  const add: Add = (code, file, message, fix) =>
    findings.push(makeFinding(mode, code, { session, file }, message, fix));
  const flags = readFlags(input, add);
  const records = readRecords(input, flags, add);
  return {
    items: [...flags, ...standIns(input, flags, add), ...records, ...timeoutFlagRecords(input, flags)],
    findings,
  };
}

/**
 * In an original folder, a SUPERVISOR-TIMEOUT whose body names its record (`code:
 * REVIEW_START_TIMEOUT:CLAUDE`, §2.2) is that record, at the flag's time.
 */
function timeoutFlagRecords(input: TrailInput, flags: readonly (TrailItem & { event: FlagEvent })[]): TrailItem[] {
  if (input.mode !== 'original') return [];
  return flags.flatMap((f) => {
    const { role, status } = f.event.name;
    const record =
      role === 'SUPERVISOR' && status === 'TIMEOUT' && f.body?.fields.code
        ? parseReviewRecord(f.body.fields.code.toUpperCase())
        : undefined;
    if (!record?.kind.endsWith('_TIMEOUT')) return [];
    const event = { record };
    return [
      {
        event,
        label: `${f.label} ${record.kind}`,
        file: f.file,
        seq: f.seq,
        stamp: f.stamp,
        mtimeMs: f.mtimeMs,
        at: null,
        rank: canonicalRank(event),
      },
    ];
  });
}

function readFlags(input: TrailInput, add: Add): (TrailItem & { event: FlagEvent })[] {
  const { session, index } = input;
  const dir = flagsDir(session);
  const flags: (TrailItem & { event: FlagEvent })[] = [];
  for (const name of index.list(dir)) {
    if (name.startsWith('.')) continue;
    const file = `${dir}/${name}`;
    const entry = index.get(file);
    if (entry?.kind !== 'file') {
      add(
        'FLAG_NAME_INVALID',
        file,
        `${name} in ${dir} is a ${entry?.kind ?? 'folder'}, not a flag file`,
        `remove ${name} from ${dir}`,
      );
      continue;
    }
    const read = readFlagName(name, { rosterRoles: input.rosterRoles });
    for (const issue of read.issues) {
      add(
        issue.code,
        file,
        issue.message,
        issue.code === 'LEGACY_FLAG_NAME'
          ? 'the engine writes strict names; nothing to do for an original folder'
          : 'rename it {AGENT}-SESSION{NNN}-{ROLE}-{STATUS}.flag, or remove it',
      );
    }
    if (!read.flag) continue;
    if (read.flag.session !== session) {
      add(
        'FLAG_WRONG_SESSION',
        file,
        `${name} names session ${read.flag.session} but sits in ${dir}`,
        `move it to ${flagsDir(read.flag.session)}, or remove it`,
      );
      continue;
    }
    const body = parseFlagBody(index.text(file) ?? '');
    const mismatches = checkBodyIdentity(read.flag, body.fields);
    if (mismatches.length) {
      add(
        'FLAG_BODY_MISMATCH',
        file,
        `${name}: body ${mismatches.map((m) => `${m.field} ${m.body} ≠ name's ${m.name}`).join(', ')}`,
        'make the body state the identity the name gives (producer, role, session, status)',
      );
    }
    const stamp = readStamp(body.fields.timestamp, () =>
      add(
        'TIMESTAMP_UNREADABLE',
        file,
        `${name}: timestamp ${JSON.stringify(body.fields.timestamp)} is not a time; ordered by the file's modification time`,
        UNREADABLE_FIX,
      ),
    );
    const event: FlagEvent = {
      name: read.flag,
      isEngine: body.fields.writer === 'engine',
      file,
      ...(body.fields.repairs ? { repairs: body.fields.repairs } : {}),
    };
    flags.push({
      event,
      label: name,
      file,
      seq: body.fields.seq ?? null,
      stamp,
      mtimeMs: entry.mtimeMs,
      at: null,
      rank: canonicalRank(event),
      body,
      tag: read.occurrenceTag,
    });
  }
  return flags;
}

/** The timestamp, or null; `unreadable` is called for text that is there but no time. */
function readStamp(text: string | undefined, unreadable: () => void): LooseTimestamp | null {
  if (text === undefined || text.trim() === '') return null;
  const stamp = parseLooseTimestamp(text);
  if (!stamp) unreadable();
  return stamp ?? null;
}

/**
 * review_flags.md rows as records. The original's table (no `seq`) records consumption by naming a
 * reviewer's terminal flag (§2.4) and timeouts in `## Timeout Records`; a row whose time cannot be
 * read takes the time of the row before it (rows are appended), else the one after, else the file's.
 */
function readRecords(input: TrailInput, flags: (TrailItem & { event: FlagEvent })[], add: Add): TrailItem[] {
  const rowsPath = sessionFilePath(input.session, 'reviewFlags');
  const rowsText = input.index.text(rowsPath);
  if (rowsText === undefined) return [];
  const parsed = parseReviewFlags(rowsText);
  for (const problem of parsed.problems)
    add(
      'ARTIFACT_SECTIONS_MISSING',
      rowsPath,
      `review_flags.md: ${problem}`,
      input.mode === 'original'
        ? "keep the original template's table: a header row with timestamp, flag, meaning and action, " +
            'then one row per flag or record (docs/original-folders.md)'
        : 'keep the table columns seq, timestamp, flag, record, meaning, action (docs/protocol.md#review-flags)',
    );
  const original = !parsed.hasSeq;
  const stamps = parsed.rows.map((row, i) =>
    readStamp(row.timestamp, () => {
      add(
        'TIMESTAMP_UNREADABLE',
        rowsPath,
        `review_flags.md row ${i + 1}: timestamp ${JSON.stringify(row.timestamp)} is not a time; ordered by its place in the table`,
        UNREADABLE_FIX,
      );
    }),
  );
  const near = (i: number) =>
    stamps
      .slice(0, i)
      .reverse()
      .find((s) => s !== null) ??
    stamps.slice(i + 1).find((s) => s !== null) ??
    null;
  const fileMtime = input.index.get(rowsPath)?.mtimeMs ?? null;
  const records: TrailItem[] = [];
  const seqByFlag = new Map<string, number>();
  parsed.rows.forEach((row, i) => {
    let record: ReviewRecord | undefined = row.record === null ? undefined : parseReviewRecord(row.record);
    let consumes: string | undefined;
    if (original && row.flag !== null) {
      // The original's table: a row naming a reviewer's terminal flag is its REVIEW_CONSUMED (§2.4).
      const cell = flagCellName(row.flag);
      record = parseReviewRecord(cell);
      const named = record ? null : readFlagName(cell, { rosterRoles: input.rosterRoles }).flag;
      if (named?.role === 'REVIEWER' && TERMINAL.has(named.status) && named.session === input.session) {
        record = { kind: 'REVIEW_CONSUMED', subject: named.agent };
        consumes = named.agent;
      }
    }
    if (record) {
      const event = { record };
      const stamp = stamps[i] ?? near(i);
      records.push({
        event,
        label: `${String(i + 1).padStart(4, '0')} ${row.record ?? row.flag}`,
        file: rowsPath,
        seq: row.seq,
        stamp,
        mtimeMs: stamp ? null : fileMtime,
        at: null,
        rank: canonicalRank(event),
        ...(consumes ? { consumes } : {}),
      });
    } else if (row.flag !== null && row.seq !== null) seqByFlag.set(row.flag, row.seq);
  });
  if (original) {
    readOriginalTimeoutRecords(rowsText).forEach(({ record, rest }, i) => {
      const event = { record };
      const stamp = timeAtStart(rest);
      records.push({
        event,
        label: `T${String(i + 1).padStart(3, '0')} ${record.kind}`,
        file: rowsPath,
        seq: null,
        stamp,
        mtimeMs: null,
        at: null,
        rank: canonicalRank(event),
      });
    });
  }
  // An external flag's seq is that of its review_flags.md row (§2.2).
  for (const f of flags) if (f.seq === null) f.seq = seqByFlag.get(f.label) ?? null;
  return records;
}

/** A time at the start of a note (`2026-11-20 11:35, skipped`), up to three words long. */
function timeAtStart(text: string): LooseTimestamp | null {
  const words = text.split(/[\s,;]+/).filter(Boolean);
  for (let n = Math.min(3, words.length); n > 0; n--) {
    const stamp = parseLooseTimestamp(words.slice(0, n).join(' '));
    if (stamp) return stamp;
  }
  return null;
}

/** A review file stands in for a missing terminal flag (SIGNAL_WITHOUT_FLAG, §2.4), at its finished_at. */
function standIns(input: TrailInput, flags: readonly { event: FlagEvent }[], add: Add): TrailItem[] {
  const { session, index } = input;
  const dir = reviewsDir(session);
  const out: TrailItem[] = [];
  const terminalOf = new Set(
    flags
      .filter((f) => f.event.name.role === 'REVIEWER' && TERMINAL.has(f.event.name.status))
      .map((f) => f.event.name.agent),
  );
  for (const name of index.list(dir)) {
    const read = readFlagName(name, { rosterRoles: input.rosterRoles });
    const flag = read.flag;
    const entry = index.get(`${dir}/${name}`);
    if (
      !flag ||
      flag.role !== 'REVIEWER' ||
      flag.session !== session ||
      !['DONE', 'BLOCKED', 'ABSTAIN'].includes(flag.status) ||
      terminalOf.has(flag.agent) ||
      entry?.kind !== 'file'
    )
      continue;
    terminalOf.add(flag.agent);
    const standIn: FlagName = { ...flag, occurrence: 1 };
    const file = `${dir}/${name}`;
    add(
      'SIGNAL_WITHOUT_FLAG',
      file,
      `${name} has no ${formatFlagName(standIn)}: the review file stands in for it`,
      `write ${flagsDir(session)}/${formatFlagName(standIn)} when the review is done`,
    );
    const event: FlagEvent = { name: standIn, isEngine: false, file };
    const finished = parseHeaderLines(index.text(file) ?? '').finished_at;
    const stamp = finished === undefined ? null : (parseLooseTimestamp(finished) ?? null);
    out.push({
      event,
      label: name,
      file,
      seq: null,
      stamp,
      mtimeMs: entry.mtimeMs,
      at: null,
      rank: canonicalRank(event),
    });
  }
  return out;
}
