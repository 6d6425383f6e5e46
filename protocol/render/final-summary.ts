import { formatDuration } from '../duration.js';
import { loopStationDir, sessionLabel, summariesDir } from '../layout.js';
import { rebaseLinks, relativePath } from '../markdown-source.js';
import type { LeaderboardRow } from '../schemas/leaderboard.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import type { AxisState, Best, Intervention, SessionRecord, Usage } from '../schemas/state.js';
import type { StopReason } from '../vocabulary.js';
import { DECISION_TRAITS } from '../decision-traits.js';
import { oneLine } from '../schemas/flag-body.js';
import { distinct, interventionLine, sameTextKey } from './records.js';
import { bullets, labelled, num } from './table.js';
import type { WorkingTree } from '../working-tree.js';

/** FINAL_SUMMARY.md (docs/protocol.md#final-summary), written once when the loop stops. */

export interface FinalSummaryInput {
  config: LoopConfig;
  stopReason: StopReason;
  stoppedAt: string;
  sessionsUsed: number;
  usage: Usage;
  /** Wall clock the loop ran. */
  elapsedMs: number;
  best: Best | null;
  rows: readonly LeaderboardRow[];
  /** Closed sessions the workflow still holds (recent ones), for reasons and risks. */
  recent: readonly SessionRecord[];
  axes: readonly AxisState[];
  interventions: readonly Intervention[];
  /** Whose workspace the loop left in the working tree; absent before any session, and in loops before it. */
  workingTree?: WorkingTree | null;
  /** The last evidence run's failure, when no later run succeeded (absent: none recorded). */
  evidenceError?: { session: number; error: string } | null;
}

/** Texts with who wrote each, texts that differ only in spacing said once with all their writers. */
function byText(items: readonly { who: string; text: string }[]): { who: string[]; text: string }[] {
  const out = new Map<string, { who: string[]; text: string }>();
  for (const { who, text } of items) {
    const key = sameTextKey(text);
    const seen = out.get(key);
    if (seen) seen.who.push(who);
    else out.set(key, { who: [who], text: text.includes('\n') ? text.trim() : key });
  }
  return [...out.values()];
}

/** Candidates the loop turned down (the `retired` bucket), with what they taught. */
const rejected = (row: LeaderboardRow): boolean =>
  row.class !== 'baseline' && DECISION_TRAITS[row.class].bucket === 'retired';

/** Most `supported` verdicts; ties: the better metric in the loop's direction, then the later session. */
export function reviewArtifactWinner(
  rows: readonly LeaderboardRow[],
  direction: 'maximize' | 'minimize',
): LeaderboardRow | null {
  const supported = (r: LeaderboardRow) => r.reviews.filter((t) => t.endsWith(':supported')).length;
  const score = (r: LeaderboardRow) =>
    r.value === null ? Number.NEGATIVE_INFINITY : direction === 'maximize' ? r.value : -r.value;
  const candidates = rows.filter((r) => supported(r) > 0);
  if (!candidates.length) return null;
  return candidates.reduce((a, b) =>
    (supported(b) - supported(a) || score(b) - score(a) || b.session - a.session) > 0 ? b : a,
  );
}

export function renderFinalSummary(input: FinalSummaryInput): string {
  const { config, best, rows } = input;
  const reasonOf = new Map(input.recent.map((r) => [r.session, r.decision.reason]));
  const winner = reviewArtifactWinner(
    rows.filter((r) => r.session > 0),
    config.evidence.direction,
  );
  const bestRecord = best ? input.recent.find((r) => r.session === best.session) : undefined;
  const risks = distinct([
    // Digests link from the summaries' folder; this file sits one level up.
    // Under the reviewers' names, the same text said once: a reviewer's own list nests, not `- - item`.
    ...byText(
      (bestRecord?.reviews ?? [])
        .filter((v) => v.risks)
        .map((v) => ({
          who: v.agent,
          text: rebaseLinks(v.risks, summariesDir, (path) => relativePath(loopStationDir, path)),
        })),
    ).map(({ who, text }) => labelled(who.join(', '), text)),
    ...(best && best.session > 0 && bestRecord && !bestRecord.reviews.some((v) => v.counted)
      ? [`session ${sessionLabel(best.session)} (the best) had no counted review`]
      : []),
    ...(best && best.session > 0 && !bestRecord
      ? [`reviews of session ${sessionLabel(best.session)} are no longer in state: read its review files`]
      : []),
  ]);
  // Why a loop may have had no value at all: its last evidence run failed (the status shows it too).
  const error = input.evidenceError;
  const failed = error ? `session ${sessionLabel(error.session)}: ${oneLine(error.error)}` : null;
  return [
    '# Final Summary',
    '',
    `loop: ${config.name}`,
    `stop_reason: ${input.stopReason}`,
    `stopped_at: ${input.stoppedAt}`,
    `sessions_used: ${input.sessionsUsed}`,
    `tokens: ${input.usage.tokensIn + input.usage.tokensOut}`,
    `cost_usd: ${input.usage.costUsd}`,
    `wall_clock: ${formatDuration(input.elapsedMs)}`,
    `best_session: ${best ? sessionLabel(best.session) : 'none'}`,
    `best_value: ${best ? best.value : 'none'}`,
    ...(failed ? [`evidence_error: ${failed}`] : []),
    '',
    '## Strict Goal Winner',
    '',
    best
      ? bullets([
          `session ${sessionLabel(best.session)}: ${config.evidence.metric} = ${best.value}`,
          `variant: ${best.variant}`,
        ])
      : `- none: no value passed protection${failed ? `; the evidence failed at ${failed}` : ''}`,
    '',
    '## Review-Artifact Winner',
    '',
    winner
      ? `- session ${sessionLabel(winner.session)}: ${winner.reviews.join(' ')} (${config.evidence.metric} = ${num(winner.value)})`
      : '- none',
    '',
    '## Rejected But Informative Candidates',
    '',
    bullets(
      rows
        .filter(rejected)
        .map(
          (r) =>
            `session ${sessionLabel(r.session)} (${r.class}, ${r.metric} = ${num(r.value)}): ${oneLine(reasonOf.get(r.session) ?? '') || 'see its decision.md'}`,
        ),
    ),
    '',
    '## Retired Directions',
    '',
    bullets(
      input.axes
        .filter((a) => a.retired)
        .map(
          (a) =>
            `${a.name}: retired at session ${a.retiredAtSession === null ? '-' : sessionLabel(a.retiredAtSession)}, best measured ${num(a.bestValue)}`,
        ),
    ),
    '',
    '## Unvalidated Generalization Risks',
    '',
    bullets(risks, 'none recorded'),
    '',
    '## Interventions',
    '',
    bullets(input.interventions.map(interventionLine)),
    '',
    ...(input.workingTree ? ['## Working Tree', '', workingTreeText(input.workingTree, input.stopReason), ''] : []),
  ].join('\n');
}

/** Whose workspace the loop left (activities/end-tree.ts), and how to get the best's back when it is not. */
function workingTreeText(t: WorkingTree, stopReason: StopReason): string {
  const best = `session ${sessionLabel(t.bestSession)}`;
  if (t.state === 'best') return `The workspace holds the best's files (${best}, ${t.variantDir}).`;
  const kept = t.lastCandidate
    ? `session ${sessionLabel(t.lastSession)}'s candidate (the last) is kept in ${t.lastCandidate}.`
    : `session ${sessionLabel(t.lastSession)} left no candidate variant.`;
  if (t.state === 'restored')
    return bullets([
      `restored the best's files (${best}) from ${t.variantDir}: ${t.files.join(', ')}`,
      `restore manifest: ${t.manifest ?? '-'}`,
      kept,
    ]);
  return bullets([
    `working tree = session ${sessionLabel(t.lastSession)}'s workspace, not the best's (${best}); differing: ${t.files.join(', ')}`,
    stopReason === 'user_stop'
      ? 'not restored: a user stop leaves the tree as it is'
      : 'not restored: the restore did not verify',
    `restore with (from the root): cp -R ${t.variantDir}/files/. . ; delete the listed files the best lacks`,
    kept,
  ]);
}
