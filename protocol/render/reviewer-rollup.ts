import { DECISION_TRAITS } from '../decision-traits.js';
import { sessionLabel } from '../layout.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import type { SessionRecord } from '../schemas/state.js';
import { distinct, perSession, reviewToken, sameTextKey } from './records.js';
import { bullets } from './table.js';

/** REVIEWER_ROLLUP.md (docs/protocol.md#summaries): reviewers' positions across sessions, from their digest sections. */

export interface ReviewerRollupInput {
  config: LoopConfig;
  /** Recent closed sessions, oldest first. */
  records: readonly SessionRecord[];
}

export function renderReviewerRollup({ config, records }: ReviewerRollupInput): string {
  const last = records.at(-1);
  // Configured reviewers first, so one that never reviewed shows as 0 of 0.
  const coverage = new Map<string, { reviewed: number; counted: number }>(
    config.reviewers.map((r) => [r.token, { reviewed: 0, counted: 0 }]),
  );
  for (const r of records) {
    for (const v of r.reviews) {
      const c = coverage.get(v.agent) ?? { reviewed: 0, counted: 0 };
      coverage.set(v.agent, { reviewed: c.reviewed + 1, counted: c.counted + (v.counted ? 1 : 0) });
    }
  }
  const risks = records.flatMap((r) => r.reviews.map((v) => v.risks).filter((risk) => sameTextKey(risk) !== ''));
  const keys = risks.map(sameTextKey);
  const recurring = distinct(risks.filter((_, i) => keys.indexOf(keys[i]!) !== i));
  return [
    '# Reviewer Rollup',
    '',
    '## Latest Reviewer Position',
    '',
    bullets(
      last
        ? last.reviews.map((v) => {
            const t = reviewToken(v);
            return `${t.agent} (session ${sessionLabel(last.session)}): ${t.verdict}${v.recommendation ? `, recommends ${v.recommendation}` : ''}`;
          })
        : [],
      'no reviews yet',
    ),
    '',
    '## Audit Coverage',
    '',
    bullets(
      [...coverage].map(([agent, c]) => `${agent}: ${c.counted} counted of ${c.reviewed} requested`),
      'none yet',
    ),
    '',
    '## Recurring Concerns',
    '',
    bullets(recurring, 'none recurring'),
    '',
    '## Confirmed Improvements',
    '',
    bullets(
      perSession(records, (r) =>
        DECISION_TRAITS[r.decision.class].makesBest
          ? r.reviews.filter((v) => v.verdict === 'supported').map((v) => `${v.agent} supported the promotion`)
          : null,
      ),
      'none',
    ),
    '',
    '## Regressions Or Confounds',
    '',
    bullets(
      perSession(records, (r) =>
        r.reviews
          .filter((v) => v.verdict === 'unsupported' || v.recommendation === 'retire')
          .map((v) => `${v.agent}: ${v.verdict ?? v.outcome}${v.recommendation ? ` / ${v.recommendation}` : ''}`),
      ),
      'none',
    ),
    '',
    '## Requests For Next Session',
    '',
    bullets(distinct(last ? last.reviews.map((v) => v.nextAction) : []), 'none'),
    '',
    '## Executor Token-Saving Digest',
    '',
    bullets(distinct(perSession(records.slice(-3), (r) => r.reviews.map((v) => v.trendDigest))), 'none'),
    '',
  ].join('\n');
}
