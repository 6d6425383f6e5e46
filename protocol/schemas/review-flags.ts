import { z } from 'zod';
import { sessionLabel } from '../layout.js';
import { bullets, parseFirstTable, renderTable } from '../render/table.js';

/** review_flags.md (PROTOCOL.md §5): one row per flag or record of a session, in `seq` order. */

export const REVIEW_RECORD_KINDS = [
  'REVIEW_START_TIMEOUT', 'REVIEW_DONE_TIMEOUT', 'REVIEW_HEARTBEAT_TIMEOUT', 'REVIEW_DONE_WITHOUT_ARTIFACT',
  'REVIEW_CONSUMED', 'REVIEW_SKIPPED', 'REVIEW_LATE', 'REVIEW_NOT_OPENED', 'VIOLATION', 'REPAIRED',
] as const;
export type ReviewRecordKind = (typeof REVIEW_RECORD_KINDS)[number];

/** `REVIEW_CONSUMED:CLAUDE` → {kind, subject}; subject null only for the first version's bare REVIEW_START_TIMEOUT. */
export interface ReviewRecord {
  kind: ReviewRecordKind;
  subject: string | null;
}

const TIMEOUT_KINDS: ReadonlySet<ReviewRecordKind> = new Set(['REVIEW_START_TIMEOUT', 'REVIEW_DONE_TIMEOUT', 'REVIEW_HEARTBEAT_TIMEOUT']);
const isTimeoutRecord = (r: ReviewRecord): boolean => TIMEOUT_KINDS.has(r.kind);
const isViolationRecord = (r: ReviewRecord): boolean => r.kind === 'VIOLATION' || r.kind === 'REPAIRED';

const RECORD_RE = new RegExp(`^(${REVIEW_RECORD_KINDS.join('|')})(?::(\\S+))?$`);

/** Parses one record; undefined when it is not in the §5 grammar. */
export function parseReviewRecord(text: string): ReviewRecord | undefined {
  const m = RECORD_RE.exec(text.trim());
  if (!m) return undefined;
  const kind = m[1] as ReviewRecordKind;
  const subject = m[2] ?? null;
  if (subject === null && kind !== 'REVIEW_START_TIMEOUT') return undefined;
  return { kind, subject };
}

export const formatReviewRecord = (r: ReviewRecord): string => (r.subject === null ? r.kind : `${r.kind}:${r.subject}`);

export const ReviewFlagRowSchema = z.strictObject({
  /** Loop-wide counter; null only in the original's table. */
  seq: z.int().nonnegative().nullable(),
  timestamp: z.string(),
  /** Flag file name, or null for a record row that names no flag. */
  flag: z.string().nullable(),
  record: z.string().nullable(),
  meaning: z.string(),
  action: z.string(),
});
export type ReviewFlagRow = z.infer<typeof ReviewFlagRowSchema>;

const HEADER = ['seq', 'timestamp', 'flag', 'record', 'meaning', 'action'] as const;

/** Renders the whole file; rows are only ever appended, so a re-render keeps earlier lines. */
export function renderReviewFlags(session: number, rows: readonly ReviewFlagRow[]): string {
  const records = rows.map((r) => (r.record === null ? undefined : parseReviewRecord(r.record))).filter((r) => r !== undefined);
  const timeouts = records.filter(isTimeoutRecord).map(formatReviewRecord);
  const violations = records.filter(isViolationRecord).map(formatReviewRecord);
  return [
    `# Review Flags — session ${sessionLabel(session)}`,
    '',
    renderTable(HEADER, rows.map((r) => [r.seq, r.timestamp, r.flag, r.record, r.meaning, r.action])),
    '',
    '## Timeout Records',
    '',
    bullets(timeouts),
    '',
    '## Protocol Violations',
    '',
    bullets(violations),
    '',
  ].join('\n');
}

export interface ParsedReviewFlags {
  rows: ReviewFlagRow[];
  /** False for the original's table (timestamp, flag, meaning, action). */
  hasSeq: boolean;
  problems: string[];
}

const dash = (v: string | undefined): string | null => (v === undefined || v === '-' || v === '' ? null : v);

/** Reads the table back; accepts the original's columns (no seq, no record) too. */
export function parseReviewFlags(md: string): ParsedReviewFlags {
  const table = parseFirstTable(md);
  if (!table) return { rows: [], hasSeq: false, problems: ['no table'] };
  const columns = table.header.map((h) => h.toLowerCase());
  const at = (name: string) => columns.indexOf(name);
  const problems: string[] = [];
  if (at('timestamp') < 0 || at('flag') < 0) problems.push(`table header ${table.header.join(', ')} lacks timestamp or flag`);
  const hasSeq = at('seq') >= 0;
  const rows: ReviewFlagRow[] = [];
  table.rows.forEach((cells, i) => {
    const get = (name: string) => (at(name) < 0 ? undefined : cells[at(name)]);
    const seqText = dash(get('seq'));
    const seq = seqText !== null && /^\d+$/.test(seqText) ? Number(seqText) : null;
    if (hasSeq && seq === null) problems.push(`row ${i + 1}: seq ${JSON.stringify(get('seq') ?? '')} is not an integer`);
    const record = dash(get('record'));
    if (record !== null && !parseReviewRecord(record)) problems.push(`row ${i + 1}: record ${record} is not in the §5 grammar`);
    rows.push({ seq, timestamp: get('timestamp') ?? '', flag: dash(get('flag')), record, meaning: get('meaning') ?? '', action: get('action') ?? '' });
  });
  return { rows, hasSeq, problems };
}
