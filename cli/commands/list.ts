import type { ConnectionFlags } from '../../server/connection-options.js';
import { LoopListSchema, type LoopList } from '../../protocol/schemas/cli-output.js';
import { LoopBest, LoopName, LoopPhaseKey, LoopSession } from '../../workflows/search-attributes.js';
import { connect } from '../connect.js';
import { UsageError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';
import { evidenceErrorNote } from '../../protocol/evidence-output.js';
import { terminalSafe } from '../../protocol/terminal-text.js';

export interface ListOptions extends ConnectionFlags {
  query?: string | undefined;
  limit?: number;
}

/** Loops from Temporal visibility: works with no worker running, since it reads search attributes. */
export async function listCommand(options: ListOptions, out: Output): Promise<LoopList> {
  const conn = await connect(options);
  try {
    // A loop that continued as new is one loop: its earlier runs are not listed beside its latest.
    const query = [
      `WorkflowType = 'loopWorkflow'`,
      `ExecutionStatus != 'ContinuedAsNew'`,
      options.query ? `(${options.query})` : '',
    ]
      .filter(Boolean)
      .join(' AND ');
    const rows: LoopList = [];
    try {
      for await (const wf of conn.client.workflow.list({ query })) {
        const memo = (wf.memo ?? {}) as Record<string, unknown>;
        rows.push({
          workflowId: wf.workflowId,
          name: wf.typedSearchAttributes.get(LoopName) ?? null,
          status: wf.status.name,
          phase: wf.typedSearchAttributes.get(LoopPhaseKey) ?? null,
          session: wf.typedSearchAttributes.get(LoopSession) ?? null,
          sessions: typeof memo.sessions === 'number' ? memo.sessions : null,
          best: wf.typedSearchAttributes.get(LoopBest) ?? null,
          metric: typeof memo.metric === 'string' ? memo.metric : null,
          startTime: wf.startTime.toISOString(),
          closeTime: wf.closeTime?.toISOString() ?? null,
          evidenceError: memoEvidenceError(memo.evidenceError),
        });
        if (rows.length >= (options.limit ?? 100)) break;
      }
    } catch (error) {
      // INVALID_ARGUMENT (3): the server could not read the query the user wrote.
      if (options.query && grpcCode(error) === 3) throw badQuery(options.query, error);
      throw error;
    }
    return emit(out, LoopListSchema.parse(rows), renderList);
  } finally {
    await conn.close();
  }
}

/** The gRPC status code of an error or of one of its causes (the SDK wraps the server's). */
function grpcCode(error: unknown): number | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as Error).cause, depth++)
    if (typeof (e as { code?: unknown }).code === 'number') return (e as { code: number }).code;
  return undefined;
}

function badQuery(query: string, error: unknown): UsageError {
  let detail = '';
  for (let e: unknown = error; e instanceof Error; e = e.cause) detail = e.message;
  detail = detail.replace(/^\d+ INVALID_ARGUMENT: /, '');
  return new UsageError(
    `--query ${query}: the server cannot read it (${detail})\n` +
      `  fix: write a Temporal visibility query on the loops' search attributes, e.g. ` +
      `'LoopPhase="review"', 'LoopName="my-loop" AND ExecutionStatus="Running"', 'LoopBest > 28' ` +
      '(LoopName, LoopPhase: text; LoopSession: a number; LoopBest: a number)',
  );
}

/** The memo's `evidenceError` (memo-holds-evidence-error), when it has that shape. */
function memoEvidenceError(v: unknown): LoopList[number]['evidenceError'] {
  const e = v as { session?: unknown; error?: unknown } | null | undefined;
  return e && Number.isInteger(e.session) && (e.session as number) >= 0 && typeof e.error === 'string'
    ? { session: e.session as number, error: e.error }
    : null;
}

/** The table; a NOTE column only when a loop has something to say (its evidence fails), clipped to a glance. */
export function renderList(rows: LoopList): string {
  if (rows.length === 0) return 'no loops\n';
  // The error may quote what the evidence command printed: nothing in it reaches the terminal raw.
  const notes = rows.map((r) => (r.evidenceError ? terminalSafe(evidenceErrorNote(r.evidenceError, 60)) : ''));
  const note = notes.some(Boolean);
  const table = [
    ['LOOP', 'STATUS', 'PHASE', 'SESSION', 'BEST', 'STARTED', ...(note ? ['NOTE'] : [])],
    ...rows.map((r, i) => [
      r.workflowId,
      r.status,
      r.phase ?? '-',
      `${r.session ?? '-'}/${r.sessions ?? '?'}`,
      r.best === null ? '-' : `${r.metric ?? ''} ${r.best}`.trim(),
      r.startTime.replace('T', ' ').slice(0, 19),
      ...(note ? [notes[i]!] : []),
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return `${table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
