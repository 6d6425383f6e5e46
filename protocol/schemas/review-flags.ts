import { z } from 'zod';
import { sessionLabel } from '../layout.js';
import { sectionBody } from '../markdown.js';
import { bullets, parseFirstTable, renderTable } from '../render/table.js';
import { AGENT_TOKEN_RE } from '../vocabulary.js';

/** review_flags.md (docs/protocol.md#review-flags): one row per flag or record of a session, in `seq` order. */

/** Records naming the reviewer whose wait they end or whose review they take. */
const AGENT_RECORD_KINDS = [
  'REVIEW_DONE_TIMEOUT',
  'REVIEW_HEARTBEAT_TIMEOUT',
  'REVIEW_DONE_WITHOUT_ARTIFACT',
  'REVIEW_CONSUMED',
  'REVIEW_SKIPPED',
  'REVIEW_LATE',
] as const;
/** Why review did not open: `executor_blocked`, `no_reviewers`, `stop_requested`. */
const NOT_OPENED_REASON_RE = /^[a-z][a-z0-9_]*$/;
/** A §3.3 code; the original's names carry `-` (`SUPERVISOR-DONE_BEFORE_REVIEWER-DONE`). */
const VIOLATION_CODE_RE = /^[A-Z][A-Z0-9_-]*$/;

const AgentTokenSchema = z.string().regex(AGENT_TOKEN_RE);

/** `REVIEW_CONSUMED:CLAUDE` as {kind, subject}: the subject is an agent token, a reason or a code by kind. */
export const ReviewRecordSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('REVIEW_START_TIMEOUT'),
    /** Null: the first version's bare record, covering every required reviewer not yet started. */
    subject: AgentTokenSchema.nullable(),
  }),
  z.strictObject({ kind: z.enum(AGENT_RECORD_KINDS), subject: AgentTokenSchema }),
  z.strictObject({ kind: z.literal('REVIEW_NOT_OPENED'), subject: z.string().regex(NOT_OPENED_REASON_RE) }),
  z.strictObject({ kind: z.enum(['VIOLATION', 'REPAIRED']), subject: z.string().regex(VIOLATION_CODE_RE) }),
]);
export type ReviewRecord = z.infer<typeof ReviewRecordSchema>;

const inner = (re: RegExp): string => re.source.slice(1, -1);
const RECORD_TEXT_RE = new RegExp(
  `^(?:REVIEW_START_TIMEOUT(?::${inner(AGENT_TOKEN_RE)})?|(?:${AGENT_RECORD_KINDS.join('|')}):${inner(AGENT_TOKEN_RE)}` +
    `|REVIEW_NOT_OPENED:${inner(NOT_OPENED_REASON_RE)}|(?:VIOLATION|REPAIRED):${inner(VIOLATION_CODE_RE)})$`,
);

const formatReviewRecord = (r: ReviewRecord): string => (r.subject === null ? r.kind : `${r.kind}:${r.subject}`);

/** Record text ⇄ {kind, subject}: `parse` reads the §5 grammar, `encode` writes it back unchanged. */
export const ReviewRecordTextSchema = z.codec(
  z.string().regex(RECORD_TEXT_RE).meta({
    description: 'A review_flags.md record: REVIEW_CONSUMED:<AGENT>, REVIEW_NOT_OPENED:<reason>, VIOLATION:<code>, …',
  }),
  ReviewRecordSchema,
  {
    decode: (text) => {
      const colon = text.indexOf(':');
      // The pattern matched; the output schema checks the pair again.
      return (
        colon < 0 ? { kind: text, subject: null } : { kind: text.slice(0, colon), subject: text.slice(colon + 1) }
      ) as ReviewRecord;
    },
    encode: formatReviewRecord,
  },
);

/** Parses one record (surrounding space ignored); undefined when it is not in the §5 grammar. */
export function parseReviewRecord(text: string): ReviewRecord | undefined {
  return ReviewRecordTextSchema.safeParse(text.trim()).data;
}

const TIMEOUT_KINDS: ReadonlySet<ReviewRecord['kind']> = new Set([
  'REVIEW_START_TIMEOUT',
  'REVIEW_DONE_TIMEOUT',
  'REVIEW_HEARTBEAT_TIMEOUT',
]);
const isTimeoutRecord = (r: ReviewRecord): boolean => TIMEOUT_KINDS.has(r.kind);
const isViolationRecord = (r: ReviewRecord): boolean => r.kind === 'VIOLATION' || r.kind === 'REPAIRED';

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
  const records = rows
    .map((r) => (r.record === null ? undefined : parseReviewRecord(r.record)))
    .filter((r) => r !== undefined);
  const timeouts = records.filter(isTimeoutRecord).map(formatReviewRecord);
  const violations = records.filter(isViolationRecord).map(formatReviewRecord);
  return [
    `# Review Flags — session ${sessionLabel(session)}`,
    '',
    renderTable(
      HEADER,
      rows.map((r) => [r.seq, r.timestamp, r.flag, r.record, r.meaning, r.action]),
    ),
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
  if (at('timestamp') < 0 || at('flag') < 0)
    problems.push(`table header ${table.header.join(', ')} lacks timestamp or flag`);
  const hasSeq = at('seq') >= 0;
  const rows: ReviewFlagRow[] = [];
  table.rows.forEach((cells, i) => {
    const get = (name: string) => (at(name) < 0 ? undefined : cells[at(name)]);
    const seqText = dash(get('seq'));
    const seq = seqText !== null && /^\d+$/.test(seqText) ? Number(seqText) : null;
    if (hasSeq && seq === null)
      problems.push(`row ${i + 1}: seq ${JSON.stringify(get('seq') ?? '')} is not an integer`);
    const record = dash(get('record'));
    if (record !== null && !parseReviewRecord(record))
      problems.push(`row ${i + 1}: record ${record} is not in the §5 grammar`);
    rows.push({
      seq,
      timestamp: get('timestamp') ?? '',
      flag: dash(get('flag')),
      record,
      meaning: get('meaning') ?? '',
      action: get('action') ?? '',
    });
  });
  return { rows, hasSeq, problems };
}

/**
 * The flag a cell of the original's table names, as a file name: agents write it as code
 * (`` `CLAUDE-SESSION001-REVIEWER-DONE` ``), as a path or a link, or followed by a remark.
 */
export function flagCellName(cell: string): string {
  const link = /^\[([^\]]*)\]\([^)]*\)/.exec(cell.trim());
  const text = (link ? link[1]! : cell).replace(/[`*]/g, '').trim();
  const word = text.split(/\s+/).find((w) => /-SESSION_?\d/i.test(w) || parseReviewRecord(w) !== undefined) ?? text;
  return word.slice(word.lastIndexOf('/') + 1).replace(/[,;:]$/, '');
}

export interface OriginalTimeoutRecord {
  record: ReviewRecord;
  /** What follows the record on its line (a time, a note), `:` and space trimmed. */
  rest: string;
}

const NOTHING_RE = /^(?:none|no|-|n\/a|not applicable)?\.?$/i;

/**
 * `## Timeout Records` bullets of the original's review_flags.md (`- REVIEW_START_TIMEOUT:CLAUDE:
 * 2026-11-20 11:35, skipped`). Template lines (`{reviewer}`) and `none` values are no record.
 */
export function readOriginalTimeoutRecords(md: string): OriginalTimeoutRecord[] {
  const out: OriginalTimeoutRecord[] = [];
  for (const line of (sectionBody(md, 'Timeout Records') ?? '').split('\n')) {
    // `- \`REVIEW_START_TIMEOUT:CLAUDE\`: note` or `- REVIEW_START_TIMEOUT:CLAUDE: note`.
    const m = /^\s*[-*]\s+(?:`([^`]+)`|(\S+?)):?(?:\s+(.*))?$/.exec(line);
    const record = m ? parseReviewRecord((m[1] ?? m[2]!).toUpperCase()) : undefined;
    const rest = (m?.[3] ?? '').replace(/^:\s*/, '').trim();
    if (!record || NOTHING_RE.test(rest)) continue;
    out.push({ record, rest });
  }
  return out;
}
