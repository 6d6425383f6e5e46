import { DECISION_TRAITS, SUMMARY_BUCKETS } from '../decision-traits.js';
import { sessionLabel } from '../layout.js';
import type { LeaderboardRow } from '../schemas/leaderboard.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import type { AxisState, Best, SessionRecord } from '../schemas/state.js';
import { distinct, perSession } from './records.js';
import { bullets, num, renderTable } from './table.js';

/** ROLLING_SUMMARY.md (docs/protocol.md#summaries): frame, best, trends and direction, re-rendered before every close. */

export interface RollingSummaryInput {
  config: LoopConfig;
  /** Recent closed sessions, oldest first. */
  records: readonly SessionRecord[];
  best: Best | null;
  axes: readonly AxisState[];
  rows: readonly LeaderboardRow[];
  /** Trend table length. @default 10 */
  trendRows?: number;
}

export function renderRollingSummary(input: RollingSummaryInput): string {
  const { config, best, rows } = input;
  const sessions = rows.filter((r) => r.session > 0);
  const trend = sessions.slice(-(input.trendRows ?? 10));
  const last = input.records.at(-1);
  const active = input.axes
    .filter((a) => !a.retired)
    .map((a) => `${a.name} (plateau ${a.plateau} of ${config.evidence.plateau})`);
  return [
    '# Rolling Summary',
    '',
    '## Current Frame',
    '',
    bullets([
      `goal: ${config.goal}`,
      `evidence: ${config.evidence.direction} ${config.evidence.metric} via ${config.evidence.command}`,
      `sessions: ${sessions.length} of ${config.budget.sessions}`,
    ]),
    '',
    '## Current Best',
    '',
    best
      ? bullets([
          `session ${sessionLabel(best.session)}: ${config.evidence.metric} = ${best.value}`,
          `axis: ${best.axis ?? 'default'}`,
          `variant: ${best.variant}`,
        ])
      : '- none yet',
    '',
    '## Session Trends',
    '',
    trend.length
      ? renderTable(
          ['session', 'axis', 'class', 'value', 'best'],
          trend.map((r) => [sessionLabel(r.session), r.axis, r.class, num(r.value), num(r.best_value)]),
        )
      : 'no closed sessions yet',
    '',
    '## Promoted/Kept/Retired/Stopped',
    '',
    bullets(
      SUMMARY_BUCKETS.map((name) => {
        const hits = sessions
          .filter((r) => r.class !== 'baseline' && DECISION_TRAITS[r.class].bucket === name)
          .map((r) => sessionLabel(r.session));
        return `${name}: ${hits.length}${hits.length ? ` (${hits.join(', ')})` : ''}`;
      }),
    ),
    '',
    '## Risks And Confounds',
    '',
    bullets(distinct(perSession(input.records, (r) => r.reviews.map((v) => v.risks))), 'none reported'),
    '',
    '## Next Direction',
    '',
    bullets([
      last
        ? `last decision (session ${sessionLabel(last.session)}): ${last.decision.class}${last.decision.next ? ` → ${last.decision.next}` : ''}`
        : 'no decision yet',
      `active axes: ${active.join(', ') || 'none (the executor picks)'}`,
      `retired axes: ${
        input.axes
          .filter((a) => a.retired)
          .map((a) => a.name)
          .join(', ') || 'none'
      }`,
    ]),
    '',
  ].join('\n');
}
