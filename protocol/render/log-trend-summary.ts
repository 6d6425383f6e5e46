import { DECISION_TRAITS } from '../decision-traits.js';
import { runsDir, sessionFilePath, sessionLabel } from '../layout.js';
import type { LeaderboardRow } from '../schemas/leaderboard.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import type { SessionRecord } from '../schemas/state.js';
import { distinct, perSession } from './records.js';
import { bullets, num } from './table.js';

/** LOG_TREND_SUMMARY.md (docs/protocol.md#summaries): patterns across recent sessions, with the raw files to check. */

export interface LogTrendSummaryInput {
  config: LoopConfig;
  /** Recent closed sessions, oldest first: the logs worth reading. */
  records: readonly SessionRecord[];
  /** Every session's leaderboard row: the whole metric trend. */
  rows: readonly LeaderboardRow[];
}

export function renderLogTrendSummary({ config, records, rows }: LogTrendSummaryInput): string {
  const first = records[0];
  const last = records.at(-1);
  const statusCounts = new Map<string, number>();
  for (const r of records) statusCounts.set(r.executor.status, (statusCounts.get(r.executor.status) ?? 0) + 1);
  const failures = [
    ...perSession(records, (r) =>
      r.executor.status === 'DONE'
        ? null
        : `executor ${r.executor.status}${r.executor.reason ? `: ${r.executor.reason}` : ''}`,
    ),
    ...perSession(records, (r) => r.reviews.filter((v) => v.outcome === 'timeout').map((v) => `${v.agent} timed out`)),
    ...perSession(records, (r) => r.evidence?.error ?? null),
  ];
  return [
    '# Log Trend Summary',
    '',
    '## Sessions Covered',
    '',
    first && last
      ? `sessions ${sessionLabel(first.session)}–${sessionLabel(last.session)} (${records.length})`
      : 'none yet',
    '',
    '## Recurring Log Patterns',
    '',
    bullets(
      [...statusCounts].map(([status, count]) => `executor ${status}: ${count} session${count === 1 ? '' : 's'}`),
      'none yet',
    ),
    '',
    '## Failures/Timeouts/Resource Issues',
    '',
    bullets(failures, 'none'),
    '',
    '## Metric And Visual Trend Links',
    '',
    bullets(
      rows
        .filter((r) => r.session > 0)
        .map(
          (r) =>
            `session ${sessionLabel(r.session)}: ${r.metric} = ${num(r.value)} → ${r.class} (${sessionFilePath(r.session, 'metrics')})`,
        ),
      'none yet',
    ),
    '',
    '## Commands/Seeds/Configs Worth Rechecking',
    '',
    bullets(
      distinct(
        perSession(records, (r) =>
          r.evidence && r.evidence.exit_code !== 0
            ? `\`${r.evidence.command}\` exited ${num(r.evidence.exit_code)}`
            : null,
        ),
      ),
      `none: \`${config.evidence.command}\` exited 0 throughout`,
    ),
    '',
    '## Stale Or Missing Artifacts',
    '',
    bullets(
      perSession(records, (r) =>
        r.reviews
          .filter((v) => v.outcome === 'done' && !v.counted)
          .map((v) => `${v.agent}'s DONE without its review file`),
      ),
      'none',
    ),
    '',
    '## Claims That Need Raw Log Verification',
    '',
    bullets(
      perSession(records, (r) =>
        DECISION_TRAITS[r.decision.class].makesBest && !r.reviews.some((v) => v.counted)
          ? `promoted without a counted review: check ${runsDir(r.session)}/`
          : null,
      ),
      'none',
    ),
    '',
  ].join('\n');
}
