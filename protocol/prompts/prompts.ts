import { formatDuration } from '../duration.js';
import { codeVariantSessionDir } from '../layout.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import type { DecisionBlock } from '../schemas/state.js';
import { DECISION_CLASSES } from '../vocabulary.js';

/**
 * Prompt templates per role. The engine, not the agent, writes flags, so prompts tell managed
 * agents to write only their artifact; the read order follows docs/protocol.md#resume-read-order.
 */

export const RESUME_READ_ORDER = [
  'loop_station/contract.json',
  'loop_station/FRAME.md',
  'loop_station/summaries/COMPACT_HANDOFF.md',
  'loop_station/summaries/EXECUTOR_BRIEF.md',
  'loop_station/summaries/LOG_TREND_SUMMARY.md',
  'loop_station/summaries/ROLLING_SUMMARY.md',
  'loop_station/summaries/SESSION_LEDGER.md',
];

export interface PromptContext {
  config: Pick<LoopConfig, 'goal' | 'budget' | 'evidence' | 'workspace' | 'protected'>;
  session: number;
  sessionLabel: string;
  agent: string;
  instructions: string | null;
}

function brief(ctx: PromptContext): string[] {
  const { config } = ctx;
  const budget = [`${config.budget.sessions} sessions`];
  if (config.budget.wallClockMs) budget.push(`wall clock ${formatDuration(config.budget.wallClockMs)}`);
  if (config.budget.perRunMs) budget.push(`per run ${formatDuration(config.budget.perRunMs)}`);
  return [
    `Goal: ${config.goal}`,
    `Budget: ${budget.join(', ')}`,
    `Evidence: ${config.evidence.direction} ${config.evidence.metric} via \`${config.evidence.command}\`` +
      (config.evidence.protect.length ? `; protection: ${config.evidence.protect.join(', ')}` : ''),
    `Workspace (you may edit): ${config.workspace.length ? config.workspace.join(', ') : '(none declared)'}`,
    `Protected (never edit): ${config.protected.length ? config.protected.join(', ') : '(none)'}`,
  ];
}

export interface ExecutorPromptInput extends PromptContext {
  reportPath: string;
  proposalPath: string;
  lastDecision: DecisionBlock | null;
  redirects: readonly string[];
  best: { session: number; value: number } | null;
  retiredAxes: readonly string[];
  /** The last decision was needs_code_variant: the executor makes an isolated variant instead of a direct edit. */
  needsCodeVariant?: boolean;
}

export function renderExecutorPrompt(input: ExecutorPromptInput): string {
  const lines = [
    `You are ${input.agent}, the EXECUTOR of session ${input.sessionLabel} of a LOOP-STATION loop.`,
    '',
    ...brief(input),
    '',
    'Read first, in this order (skip what does not exist yet):',
    ...RESUME_READ_ORDER.map((p) => `- ${p}`),
  ];
  if (input.lastDecision) {
    lines.push(
      `- loop_station/sessions/session_${String(input.lastDecision.session).padStart(3, '0')}/decision.md (last decision: ${input.lastDecision.class}${input.lastDecision.next_axis ? `, next axis ${input.lastDecision.next_axis}` : ''})`,
    );
  }
  lines.push('');
  if (input.best)
    lines.push(
      `Best so far: ${input.config.evidence.metric} = ${input.best.value} (session ${String(input.best.session).padStart(3, '0')}).`,
    );
  if (input.retiredAxes.length) lines.push(`Retired axes (do not return to them): ${input.retiredAxes.join(', ')}.`);
  if (input.redirects.length) {
    lines.push('', 'Human redirect (follow it; it overrides earlier plans):', ...input.redirects.map((r) => `- ${r}`));
  }
  if (input.needsCodeVariant) {
    lines.push(
      '',
      `The last decision was needs_code_variant: this session, do not edit the workspace directly. Make one isolated variant under ${codeVariantSessionDir(input.session)}/<slug>/ (slug: lower-case letters, digits, _): its changed files under files/<path> and a manifest.json (docs/protocol.md#code-variants: session, change_slug, reason, source_files, variant_files [{path: "files/<path>", source_path: "<path>"}], entrypoint, config, command, maintained_source_modified: false, restore_manifest: null, created_at). The engine measures it with the evidence command in a copy of the workspace with your files in place; never list a protected file.`,
    );
  }
  lines.push(
    '',
    'Work on ONE axis this session, with a small batch of variants; keep the best in the workspace.',
    `Then write two files (they are your only protocol duty; the engine writes every flag):`,
    `1. ${input.reportPath}: header lines \`agent: ${input.agent}\`, \`session: ${input.sessionLabel}\`, \`status: DONE\` (or ABSTAIN), \`axis: <the axis>\`, \`started_at\`, \`finished_at\`; then sections ## What Ran, ## Changed Values, ## Implementation Variants, ## Results, ## Evidence, ## Failures Or Surprises, ## Executor Interpretation.`,
    `2. ${input.proposalPath}: header lines \`agent\`, \`session\`, \`proposed_next_session\`, \`proposed_axis\`; sections ## Summary, ## Promote, ## Keep, ## Retire, ## Proposed Next Action, ## Reviewer Requests.`,
    'Report only numbers you measured this session. Do not touch protected files or anything under loop_station/ except those two files.',
  );
  if (input.instructions) lines.push('', input.instructions);
  return `${lines.join('\n')}\n`;
}

export interface ReviewerPromptInput extends PromptContext {
  reviewPath: string;
  artifacts: readonly string[];
}

export function renderReviewerPrompt(input: ReviewerPromptInput): string {
  const lines = [
    `You are ${input.agent}, an independent REVIEWER of session ${input.sessionLabel} of a LOOP-STATION loop.`,
    '',
    ...brief(input),
    '',
    'Read these artifacts and check the claims yourself (rerun the evidence command if you can):',
    ...input.artifacts.map((a) => `- ${a}`),
    '',
    `Write your review to ${input.reviewPath} with header lines \`agent: ${input.agent}\`, \`model\`, \`instruction_profile\`, \`role: REVIEWER\`, \`session: ${input.sessionLabel}\`, \`status: DONE\`, \`verdict: supported|unsupported|uncertain\`, \`recommendation: <one of ${DECISION_CLASSES.join(', ')}>\`, \`blocked_reason: none\`,`,
    'then sections ## Evidence Checked, ## Audit Methods Used, ## Visual Image Check, ## Metric/Log Analysis, ## Historical Trend / Log Digest For Executor, ## Scientific/Literature Challenge, ## Code/Config Audit, ## Verdict, ## Promote/Keep/Retire, ## Risks Or Confounds, ## Recommended Next Action.',
    'Write nothing else: the engine writes the flags. If you cannot review, exit non-zero and say why.',
  ];
  if (input.instructions) lines.push('', input.instructions);
  return `${lines.join('\n')}\n`;
}

export interface SupervisorPromptInput extends PromptContext {
  decisionPath: string;
  artifacts: readonly string[];
  suggested: DecisionBlock;
}

export function renderSupervisorPrompt(input: SupervisorPromptInput): string {
  const lines = [
    `You are ${input.agent}, the SUPERVISOR deciding session ${input.sessionLabel} of a LOOP-STATION loop.`,
    '',
    ...brief(input),
    '',
    'Read the session artifacts and the reviews:',
    ...input.artifacts.map((a) => `- ${a}`),
    '',
    `The built-in rules suggest class \`${input.suggested.class}\` (${input.suggested.reason ?? 'no reason'}).`,
    `Write ${input.decisionPath}: it must open with a fenced block whose info string is loop-station-decision, holding \`key: value\` lines:`,
    'class, session, metric, value, best_session, best_value, axis, next_axis, protection, reviews, approval, on_approve, on_deny, stop_reason, source, reason, next',
    `(class one of ${DECISION_CLASSES.join(', ')}; null for none), then sections ## Integrated Judgment, ## Remaining Budget, ## Best Known Candidate, ## Retired Axes, ## Pivot Decision, ## Next Action.`,
    'The engine enforces budgets and protection: a promote without a measured value or with failing protection becomes needs_more_evidence.',
  ];
  if (input.instructions) lines.push('', input.instructions);
  return `${lines.join('\n')}\n`;
}
