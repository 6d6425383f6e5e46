import { CONTRACT_RESUME_READ_ORDER, type Contract } from '../schemas/contract.js';
import { bullets } from './table.js';

/** FRAME.md (docs/protocol.md#layout): the locked brief, rendered from contract.json so the two never disagree. */

const json = (v: unknown): string => JSON.stringify(v);

export function renderFrame(contract: Contract, notes: readonly string[] = []): string {
  const c = contract;
  const budget = [
    `${c.budget.max_sessions} sessions`,
    c.budget.wall_time_limit && `wall clock ${c.budget.wall_time_limit}`,
    c.budget.per_run_limit && `per run ${c.budget.per_run_limit}`,
    c.budget.token_limit !== null && `${c.budget.token_limit} tokens`,
    c.budget.cost_limit !== null && `$${c.budget.cost_limit}`,
  ]
    .filter(Boolean)
    .join(', ');
  const reviewers = [
    ...c.collaboration_mode.required_reviewers.map((r) => `${r} (required)`),
    ...c.collaboration_mode.optional_reviewers.map((r) => `${r} (optional)`),
  ];
  return [
    '# Loop Frame',
    '',
    `FRAME LOCKED ${c.locked_at}`,
    '',
    `- frame_locked: ${c.frame_locked}`,
    `- goal: ${c.goal.summary}`,
    `- budget: ${budget}`,
    `- evidence: ${c.evidence.summary}`,
    `- work_unit_scope: ${c.work_unit_scope.mode}${c.work_unit_scope.items.length ? ` (${c.work_unit_scope.items.join(', ')})` : ''}`,
    `- collaboration_mode: ${c.collaboration_mode.mode}${reviewers.length ? `; reviewers ${reviewers.join(', ')}` : ''}`,
    `- user_intervention_points: approval for ${c.user_intervention_points.requires_user_approval.join(', ')}; ask before ${c.user_intervention_points.ask_before.join(', ') || 'nothing'}`,
    `- loop_output_root: ${c.loop_output_root}`,
    `- review_flag_format: ${c.review_flag_format}`,
    '',
    '## Success Criteria',
    '',
    bullets(c.goal.success_criteria, 'none: good results never stop the loop'),
    '',
    '## Protection Criteria',
    '',
    bullets([...c.goal.protection_criteria, ...c.protected.map((p) => `protected file ${p} unchanged`)]),
    '',
    '## Required Review Artifacts',
    '',
    bullets([
      'loop_station/sessions/session_NNN/executor_report.md and executor_proposal.md before EXECUTOR-DONE',
      'supervisor_analysis.md and reviewer_requests.md before SUPERVISOR-READY',
      'loop_station/reviews/session_NNN/{AGENT}-SESSION{NNN}-REVIEWER-DONE.md before REVIEWER-DONE',
      'decision.md with a loop-station-decision block and review_flags.md before SUPERVISOR-DONE',
    ]),
    '',
    '## Notes',
    '',
    bullets([
      `workspace: ${json(c.workspace)}; protected: ${json(c.protected)}`,
      `decision policy: ${c.decision_policy.supervisor} supervisor, plateau ${c.decision_policy.plateau_sessions}, min_delta ${c.decision_policy.min_delta}`,
      `resume read order: ${CONTRACT_RESUME_READ_ORDER.join(', ')}`,
      ...c.amendments.map(
        (a) =>
          `amendment ${a.at} (session ${a.session}): ${a.kind} ${a.field} ${json(a.before)} → ${json(a.after)}${a.note ? `: ${a.note}` : ''}`,
      ),
      ...notes,
    ]),
    '',
  ].join('\n');
}
