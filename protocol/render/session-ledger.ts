import { sessionDir, sessionLabel } from '../layout.js';
import type { LeaderboardRow } from '../schemas/leaderboard.js';
import { SESSION_LEDGER_COLUMNS } from '../schemas/session-ledger.js';
import type { Intervention } from '../schemas/state.js';
import { interventionLine } from './records.js';
import { bullets, num, renderTable } from './table.js';

/**
 * SESSION_LEDGER.md (docs/protocol.md#summaries). Each row is a function of its leaderboard row alone, so
 * re-rendering never changes a row once written ("ledger rows never change");
 * schemas/session-ledger.ts reads it back.
 */

export interface SessionLedgerInput {
  executorToken: string;
  rows: readonly LeaderboardRow[];
  interventions: readonly Intervention[];
}

const COUNTED = /:(supported|unsupported|uncertain)$/;

export function renderSessionLedger(input: SessionLedgerInput): string {
  const rows = input.rows.map((r) => {
    const reviewers = r.reviews.map((t) => t.slice(0, t.lastIndexOf(':')));
    return [
      sessionLabel(r.session),
      r.session === 0 ? '-' : input.executorToken,
      reviewers.join(' ') || '-',
      r.variant,
      `${r.metric}=${num(r.value)} (protection ${r.protection})`,
      r.reviews.join(' ') || '-',
      r.class,
      r.reviews
        .filter((t) => COUNTED.test(t))
        .map((t) => t.slice(0, t.lastIndexOf(':')))
        .join(' ') || '-',
      r.session === 0 ? r.variant : sessionDir(r.session),
    ];
  });
  return [
    '# Session Ledger',
    '',
    '## Sessions',
    '',
    renderTable(SESSION_LEDGER_COLUMNS, rows),
    '',
    '## Interventions',
    '',
    bullets(input.interventions.map(interventionLine)),
    '',
  ].join('\n');
}
