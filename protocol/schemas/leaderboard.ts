import { z } from 'zod';
import { parseSessionLabel, sessionLabel } from '../layout.js';
import { DECISION_CLASSES } from '../vocabulary.js';

/** leaderboard.csv (docs/protocol.md#leaderboard): RFC 4180 quoting, LF line ends (§0), a row per session, `000` the baseline. */

export const LEADERBOARD_COLUMNS = [
  'session',
  'timestamp',
  'axis',
  'class',
  'metric',
  'value',
  'protection',
  'best_session',
  'best_value',
  'reviews',
  'variant',
] as const;

export const LeaderboardRowSchema = z.strictObject({
  session: z.int().nonnegative(),
  timestamp: z.string().min(1),
  axis: z.string().nullable(),
  class: z.enum([...DECISION_CLASSES, 'baseline']),
  metric: z.string().min(1),
  value: z.number().nullable(),
  protection: z.enum(['pass', 'fail', 'unknown']),
  best_session: z.int().nonnegative().nullable(),
  best_value: z.number().nullable(),
  /** `AGENT:verdict` tokens as in decision.md, space-separated in the cell. */
  reviews: z.array(z.string().regex(/^\S+:\S+$/)),
  variant: z.string().nullable(),
});
export type LeaderboardRow = z.infer<typeof LeaderboardRowSchema>;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const optional = (v: string | number | null): string => (v === null ? '' : String(v));

export function renderLeaderboardRow(row: LeaderboardRow): string {
  const r = LeaderboardRowSchema.parse(row);
  const cells = [
    sessionLabel(r.session),
    r.timestamp,
    optional(r.axis),
    r.class,
    r.metric,
    optional(r.value),
    r.protection,
    r.best_session === null ? '' : sessionLabel(r.best_session),
    optional(r.best_value),
    r.reviews.join(' '),
    optional(r.variant),
  ];
  return `${cells.map(csvField).join(',')}\n`;
}

export function renderLeaderboard(rows: readonly LeaderboardRow[]): string {
  return `${LEADERBOARD_COLUMNS.join(',')}\n${rows.map(renderLeaderboardRow).join('')}`;
}

/** RFC 4180 records: quoted fields may hold commas, quotes and line breaks; CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  return records;
}

export interface ParsedLeaderboard {
  rows: LeaderboardRow[];
  /** `line N: problem`, for the validator and `report`. */
  problems: string[];
}

const numberOrNull = (s: string): number | null | undefined =>
  s === '' ? null : Number.isFinite(Number(s)) ? Number(s) : undefined;

export function parseLeaderboard(text: string): ParsedLeaderboard {
  const [header, ...records] = parseCsv(text);
  const problems: string[] = [];
  if (!header || header.join(',') !== LEADERBOARD_COLUMNS.join(',')) {
    return { rows: [], problems: [`line 1: header must be ${LEADERBOARD_COLUMNS.join(',')}`] };
  }
  const rows: LeaderboardRow[] = [];
  records.forEach((cells, i) => {
    const line = i + 2;
    if (cells.length !== LEADERBOARD_COLUMNS.length) {
      problems.push(`line ${line}: ${cells.length} fields, expected ${LEADERBOARD_COLUMNS.length}`);
      return;
    }
    const [session, timestamp, axis, klass, metric, value, protection, bestSession, bestValue, reviews, variant] =
      cells as [string, ...string[]];
    const draft = {
      session: parseSessionLabel(session),
      timestamp,
      axis: axis === '' ? null : axis,
      class: klass,
      metric,
      value: numberOrNull(value!),
      protection,
      best_session: bestSession === '' ? null : parseSessionLabel(bestSession!),
      best_value: numberOrNull(bestValue!),
      reviews: reviews === '' ? [] : reviews!.split(' '),
      variant: variant === '' ? null : variant,
    };
    const parsed = LeaderboardRowSchema.safeParse(draft);
    if (parsed.success) rows.push(parsed.data);
    else
      problems.push(
        `line ${line}: ${parsed.error.issues.map((iss) => `${iss.path.join('.') || 'row'}: ${iss.message}`).join('; ')}`,
      );
  });
  return { rows, problems };
}
