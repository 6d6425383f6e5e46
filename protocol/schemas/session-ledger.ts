import { z } from 'zod';
import { parseSessionFolder } from '../layout.js';
import { sectionBody } from '../markdown.js';
import { parseFirstTable } from '../render/table.js';

/** SESSION_LEDGER.md (docs/protocol.md#summaries): a row per session under `## Sessions`, then `## Interventions`. */

export const SESSION_LEDGER_COLUMNS = [
  'session',
  'executor',
  'reviewer',
  'variants',
  'key metrics',
  'visual judgment',
  'decision',
  'consumed reviews',
  'artifacts',
] as const;

/** One row; a `-` cell is null (or `[]` for a list). The original's hand-written ledgers hold prose in the text cells. */
export const SessionLedgerRowSchema = z.strictObject({
  session: z.int().nonnegative(),
  /** Executor token; null for the baseline row `000`. */
  executor: z.string().min(1).nullable(),
  /** Reviewers with a verdict this session (space- or comma-separated in the cell). */
  reviewer: z.array(z.string().min(1)),
  variants: z.string().min(1).nullable(),
  /** Engine: `<metric>=<value> (protection pass|fail|unknown)`. */
  key_metrics: z.string().min(1).nullable(),
  /** The reviewers' verdicts; engine: `AGENT:verdict` tokens. */
  visual_judgment: z.string().min(1).nullable(),
  /** Engine: a decision class, or `baseline`. */
  decision: z.string().min(1).nullable(),
  consumed_reviews: z.array(z.string().min(1)),
  artifacts: z.string().min(1).nullable(),
});
export type SessionLedgerRow = z.infer<typeof SessionLedgerRowSchema>;

export interface ParsedSessionLedger {
  rows: SessionLedgerRow[];
  /** The `## Interventions` bullets as written, without `- `; `- none` is none. */
  interventions: string[];
  /** What did not read as the engine writes it: columns added or missing, rows skipped. */
  problems: string[];
}

type Column = (typeof SESSION_LEDGER_COLUMNS)[number];

const text = (cell: string | undefined): string | null =>
  cell === undefined || cell === '' || cell === '-' ? null : cell;
const list = (cell: string | undefined): string[] => (text(cell) ?? '').split(/[\s,]+/).filter(Boolean);

/** `007`, also the original's `7` and `session_007`; undefined for anything else. */
function sessionOf(cell: string): number | undefined {
  if (/^\d+$/.test(cell)) return Number(cell);
  return parseSessionFolder(cell.toLowerCase())?.session;
}

/**
 * Reads the ledger back. Lenient, for the original's ledgers too: an extra column is ignored, a
 * missing one reads as `-`, a row without a session number is skipped, each listed in `problems`.
 */
export function parseSessionLedger(md: string): ParsedSessionLedger {
  const problems: string[] = [];
  const table = parseFirstTable(sectionBody(md, 'Sessions') ?? md);
  const rows: SessionLedgerRow[] = [];
  if (!table) problems.push('no sessions table');
  else {
    const header = table.header.map((h) => h.toLowerCase().replace(/[\s_]+/g, ' '));
    const extra = table.header.filter((_, i) => !(SESSION_LEDGER_COLUMNS as readonly string[]).includes(header[i]!));
    const missing = SESSION_LEDGER_COLUMNS.filter((c) => !header.includes(c));
    const columns = (names: readonly string[]) => `${names.length > 1 ? 'columns' : 'column'} ${names.join(', ')}`;
    if (extra.length) problems.push(`unknown ${columns(extra)}: ignored`);
    if (missing.length) problems.push(`missing ${columns(missing)}: read as -`);
    table.rows.forEach((cells, i) => {
      const get = (column: Column) => (header.indexOf(column) < 0 ? undefined : cells[header.indexOf(column)]);
      if (cells.length !== header.length)
        problems.push(`row ${i + 1}: ${cells.length} cells under ${header.length} columns`);
      const session = sessionOf(get('session') ?? '');
      if (session === undefined) {
        problems.push(
          `row ${i + 1}: session ${JSON.stringify(get('session') ?? '')} is not a session number: row skipped`,
        );
        return;
      }
      rows.push({
        session,
        executor: text(get('executor')),
        reviewer: list(get('reviewer')),
        variants: text(get('variants')),
        key_metrics: text(get('key metrics')),
        visual_judgment: text(get('visual judgment')),
        decision: text(get('decision')),
        consumed_reviews: list(get('consumed reviews')),
        artifacts: text(get('artifacts')),
      });
    });
  }
  const body = sectionBody(md, 'Interventions');
  if (body === undefined) problems.push('no ## Interventions section');
  const bullets = (body ?? '')
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .map((l) => l.slice(2).trim());
  return { rows, interventions: bullets.length === 1 && bullets[0] === 'none' ? [] : bullets, problems };
}
