import type { RemainingBudget } from '../decision.js';
import { DECISION_TRAITS } from '../decision-traits.js';
import { formatDuration } from '../duration.js';
import {
  codeVariantsDir,
  evidencePackPath,
  RESUME_READ_ORDER,
  sessionFilePath,
  sessionFolderName,
  sessionLabel,
} from '../layout.js';
import { type PreviousOutcome, previousOutcomeLines, shorten } from '../previous-outcome.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import type { DecisionBlock } from '../schemas/state.js';
import { DECISION_CLASSES, REVIEW_TOKEN_VERDICTS, STOP_REASONS } from '../vocabulary.js';

export type { PreviousOutcome };

/**
 * Prompt templates per role (docs/architecture.md#prompts). The engine, not the agent, writes
 * flags, so prompts tell managed agents to write only their artifacts; the read order follows
 * docs/protocol.md#resume-read-order; the evidence pack (docs/protocol.md#evidence-pack) is named
 * file by file with what to check in each. The unattended note is unattended-note.ts.
 */

export interface PromptContext {
  config: Pick<LoopConfig, 'goal' | 'budget' | 'evidence' | 'workspace' | 'protected' | 'scratch'>;
  session: number;
  sessionLabel: string;
  agent: string;
  instructions: string | null;
}

/** A session's evidence pack as a prompt names it. */
export interface PackRef {
  session: number;
  /** Root-relative images the run is given as image input (the adapter attaches what its CLI can). */
  images: readonly string[];
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
    // Only when the spec names some: the line is new, and a loop without scratch reads as it did.
    ...(config.scratch?.length
      ? [`Scratch (your runs' outputs; not kept with a best, not read as your change): ${config.scratch.join(', ')}`]
      : []),
  ];
}

/** The pack's files, each with what to check in it (reviewers and the supervisor). */
function packLines(pack: PackRef, command: string): string[] {
  const p = (f: Parameters<typeof evidencePackPath>[1]) => evidencePackPath(pack.session, f);
  const attached = pack.images.length
    ? [
        `  Compare these first (this session's, then the best's, pair by pair; attached to this prompt where your CLI takes images, else open them with your file-reading tool): ${pack.images.join(', ')}.`,
      ]
    : [];
  return [
    `Evidence pack, written by the engine for this session: start with ${p('index')}, then check each part yourself:`,
    `- ${p('diffBest')} and ${p('diffPrevious')}: the code against the best and against the previous session. Does it do what the report claims, stay in the workspace and on the axis, and avoid shortcuts (a hard-coded answer, a weakened check)?`,
    `- ${p('metrics')}: every session's class, value and best, the axes, and this session's metrics next to the best's. Is the gain larger than the noise between sessions? Do the protection criteria hold? Rerun \`${command}\` from the loop root to confirm the value.`,
    `- ${p('images')}: this session's images, each beside the best session's of the same name. Open both of every pair: what improved, what regressed, does the picture agree with the metric?`,
    ...attached,
    `- ${p('logs')}: the last lines of the executor's and the evidence command's output, with the full logs' paths: errors, warnings, skipped steps.`,
    `- ${p('reviews')}: what earlier reviewers of this axis found and asked for, and whether this session did it; before them, any reviews of earlier unpromoted changes this candidate still carries (a veto of those holds unless this session undid them).`,
  ];
}

export interface PreviousReview {
  agent: string;
  verdict: string | null;
  recommendation: string | null;
  /** The review's Recommended Next Action digest. */
  nextAction: string;
}

export interface ExecutorPromptInput extends PromptContext {
  reportPath: string;
  proposalPath: string;
  lastDecision: DecisionBlock | null;
  redirects: readonly string[];
  best: { session: number; value: number } | null;
  retiredAxes: readonly string[];
  /** The previous session's reviews (what they asked for next). */
  previousReviews?: readonly PreviousReview[];
  /** The previous session's proposal, its Proposed Next Action digest (empty: none written). */
  previousProposal?: string | undefined;
  /** What the previous session's report and proposal lacked (`executor_report.md: section ## Evidence`). */
  previousMissing?: readonly string[] | undefined;
  /** The last decision asked for an isolated code variant instead of a direct edit (docs/protocol.md#code-variants). */
  needsCodeVariant?: boolean;
  /**
   * How the previous session ended: its executor, what its evidence measured or why it failed, and the
   * class that took effect (a held decision's answer), which says what the workspace now holds.
   */
  previousOutcome?: PreviousOutcome | undefined;
}

function previousSessionLines(input: ExecutorPromptInput): string[] {
  const previous = input.session - 1;
  if (previous < 1) return [];
  const lines = [
    '',
    `What session ${sessionLabel(previous)} found (read these before planning; skip what does not exist):`,
    `- ${evidencePackPath(previous, 'index')}: its evidence pack (diffs, metric history, images beside the best's, log tails, earlier reviews on its axis)`,
  ];
  if (input.lastDecision) {
    const d = input.lastDecision;
    lines.push(
      // The built-in rules' `next` names the agent that runs next (this one): only an agent's is advice.
      `- ${sessionFilePath(d.session, 'decision')}: decided ${d.class}${d.reason ? ` (${shorten(d.reason, 300)})` : ''}${d.next_axis ? `; next axis ${d.next_axis}` : ''}${d.next && d.source === 'agent' ? `; next: ${shorten(d.next, 300)}` : ''}`,
    );
    // An agent supervisor's next action and pivot are in its own words, not in the block.
    if (d.source === 'agent')
      lines.push(
        `- ${sessionFilePath(d.session, 'decisionAgent')}: the supervisor's decision as it wrote it (its next action, pivot and reasoning)`,
      );
  }
  if (input.previousOutcome)
    lines.push(
      ...previousOutcomeLines(input.previousOutcome, {
        previous,
        metric: input.config.evidence.metric,
        best: input.best,
      }).map((l) => `- ${l}`),
    );
  if (input.previousProposal)
    lines.push(
      `- ${sessionFilePath(previous, 'executorProposal')}: its executor proposed next: ${shorten(input.previousProposal, 500)}`,
    );
  if (input.previousMissing?.length)
    lines.push(
      `- its report and proposal lacked ${input.previousMissing.join('; ')}: write every header line and section listed below`,
    );
  for (const r of input.previousReviews ?? [])
    lines.push(
      `- reviewer ${r.agent} (${r.verdict ?? 'no verdict'}${r.recommendation ? `, recommends ${r.recommendation}` : ''}) asked: ${shorten(r.nextAction, 500) || '(nothing recorded)'}`,
    );
  return lines;
}

function codeVariantLines(input: ExecutorPromptInput): string[] {
  if (!input.needsCodeVariant) return [];
  const dir = `${codeVariantsDir}/${sessionFolderName(input.session)}/<slug>/`;
  return [
    '',
    'The last decision was needs_code_variant: this session, do NOT edit the workspace files in place. Build the change as an isolated code variant instead:',
    `- a folder ${dir} (slug: lower-case letters, digits and _, not \`baseline\` or \`candidate\`) with files/<path> copies of every workspace file you change, at their root-relative paths;`,
    '- its manifest.json with every field of docs/protocol.md#code-variants: `session`, `change_slug`, `reason`, `source_files`, `variant_files` ([{path: "files/<path>", source_path: "<path>"}]), `entrypoint` (the file or command that runs the variant), `config`, `command` (how to evaluate it from the loop root), `maintained_source_modified: false`, `restore_manifest: null`, `created_at`;',
    '- its entrypoint, so the variant runs without touching the workspace;',
    '- and name the folder in your report under ## Implementation Variants. The engine measures it with the evidence command in a copy of the workspace with your files in place; never list a protected file.',
  ];
}

export function renderExecutorPrompt(input: ExecutorPromptInput): string {
  const lines = [
    `You are ${input.agent}, the EXECUTOR of session ${input.sessionLabel} of a LOOP-STATION loop.`,
    '',
    ...brief(input),
    '',
    'Read first, in this order (skip what does not exist yet):',
    ...RESUME_READ_ORDER.map((p) => `- ${p}`),
    ...previousSessionLines(input),
    '',
  ];
  if (input.best)
    lines.push(
      `Best so far: ${input.config.evidence.metric} = ${input.best.value} (session ${sessionLabel(input.best.session)}).`,
    );
  if (input.retiredAxes.length) lines.push(`Retired axes (do not return to them): ${input.retiredAxes.join(', ')}.`);
  if (input.redirects.length) {
    lines.push('', 'Human redirect (follow it; it overrides earlier plans):', ...input.redirects.map((r) => `- ${r}`));
  }
  lines.push(...codeVariantLines(input));
  lines.push(
    '',
    'Work on ONE axis this session, with a small batch of variants; keep the best in the workspace.',
    // The original skill has an executor write its own start and terminal flags: this engine writes them.
    'Then write two files. They are your only protocol duty: the engine writes every flag, your RUNNING and DONE included, so write nothing under loop_station/flags/ even if another LOOP-STATION skill tells you to (a flag you write is recorded as a protocol violation):',
    `1. ${input.reportPath}: header lines \`agent: ${input.agent}\`, \`session: ${input.sessionLabel}\`, \`status: DONE\` (or ABSTAIN), \`axis: <the axis>\`, \`started_at\`, \`finished_at\`; then sections ## What Ran, ## Changed Values, ## Implementation Variants, ## Results, ## Evidence, ## Failures Or Surprises, ## Executor Interpretation.`,
    `2. ${input.proposalPath}: header lines \`agent\`, \`session\`, \`proposed_next_session\`, \`proposed_axis\`; sections ## Summary, ## Promote, ## Keep, ## Retire, ## Proposed Next Action, ## Reviewer Requests.`,
    'Report only numbers you measured this session. Do not touch protected files or anything under loop_station/ except those two files' +
      (input.needsCodeVariant ? ' and your code variant.' : '.'),
  );
  if (input.instructions) lines.push('', input.instructions);
  return `${lines.join('\n')}\n`;
}

export interface ReviewerPromptInput extends PromptContext {
  reviewPath: string;
  artifacts: readonly string[];
  /** The session's evidence pack; null when the engine wrote none (sessions before it existed). */
  pack?: PackRef | null;
}

export function renderReviewerPrompt(input: ReviewerPromptInput): string {
  const command = input.config.evidence.command;
  const lines = [
    `You are ${input.agent}, an independent REVIEWER of session ${input.sessionLabel} of a LOOP-STATION loop.`,
    '',
    ...brief(input),
    '',
    'Read these artifacts; trust nothing in them you have not checked:',
    ...input.artifacts.map((a) => `- ${a}`),
    '',
    ...(input.pack
      ? [...packLines(input.pack, command), '']
      : [`Check the claims yourself: rerun \`${command}\` from the loop root if you can.`, '']),
    `Write your review to ${input.reviewPath} with header lines \`agent: ${input.agent}\`, \`model\`, \`instruction_profile\`, \`role: REVIEWER\`, \`session: ${input.sessionLabel}\`, \`status: DONE\`, \`verdict: supported|unsupported|uncertain\`, \`recommendation: <one of ${DECISION_CLASSES.join(', ')}>\`, \`blocked_reason: none\`,`,
    'then these sections, each saying what you checked and what you found:',
    '- ## Evidence Checked: the files you read and the commands you ran, with their output;',
    '- ## Audit Methods Used: visual image check, metric audit, code/config audit, log audit: yes or no each;',
    `- ## Visual Image Check: each image pair you compared (this session beside the best), visible improvements and regressions, and any mismatch with the metric; "no images" when there are none;`,
    '- ## Metric/Log Analysis: the value you measured against the report and metrics.json; errors or warnings in the logs;',
    '- ## Historical Trend / Log Digest For Executor: the trend over the sessions (real or noise), what earlier reviews asked and whether it was done, what the next executor should read and what it can skip;',
    '- ## Scientific/Literature Challenge: why the change did or did not work, and a falsifiable mechanism to test next;',
    '- ## Code/Config Audit: the diff against the best: does the code do what the report claims, and are the protected files untouched?',
    '- ## Verdict, ## Promote/Keep/Retire, ## Risks Or Confounds, ## Recommended Next Action.',
    'If you cannot review (a tool refused, a file is missing), still write the file, with `status: BLOCKED` and `blocked_reason:` saying why. Write nothing else: the engine writes the flags.',
  ];
  if (input.instructions) lines.push('', input.instructions);
  return `${lines.join('\n')}\n`;
}

export interface SupervisorPromptInput extends PromptContext {
  decisionPath: string;
  artifacts: readonly string[];
  /** The built-in rules' block: shown as one labelled input, and the source of this session's figures. */
  suggested: DecisionBlock;
  pack?: PackRef | null;
  /** The budget ends the loop after this decision (rule 1's reason): the class decides only the best. */
  lastSession?: string | null;
  /** What is left of the budget after this session, for its ## Remaining Budget and a stop or pivot; absent: not said. */
  remaining?: RemainingBudget | undefined;
}

/** `2 sessions, wall clock 19m50s, tokens unlimited, cost_usd 4.5` (the wall clock to the second). */
function remainingText(r: RemainingBudget): string {
  const wall = r.wallClockMs === null ? 'unlimited' : formatDuration(Math.round(r.wallClockMs / 1000) * 1000);
  return `${r.sessions} session${r.sessions === 1 ? '' : 's'}, wall clock ${wall}, tokens ${r.tokens ?? 'unlimited'}, cost_usd ${r.costUsd ?? 'unlimited'}`;
}

/** Each key of the block with its allowed values, this session's figures filled in where the engine knows them. */
function decisionKeyLines(s: DecisionBlock): string[] {
  const n = (v: number | null) => (v === null ? 'null' : String(v));
  const classes = DECISION_CLASSES.map((c) => `  - ${c}: ${DECISION_TRAITS[c].effect}`);
  return [
    `- class: one of ${DECISION_CLASSES.join(', ')}:`,
    ...classes,
    `- session: ${sessionLabel(s.session)}`,
    `- metric: ${s.metric ?? 'null'}`,
    `- value: this session's measured value (the engine measured ${n(s.value)}), or null`,
    `- best_session: the best session after this decision as NNN (000 = the baseline; now ${s.best_session === null ? 'null' : sessionLabel(s.best_session)}), or null`,
    `- best_value: its value (now ${n(s.best_value)}), or null`,
    `- axis: this session's axis (${s.axis ?? 'default'})`,
    '- next_axis: the axis the next session should work on, or null to let the executor pick',
    `- protection: pass, fail or unknown (the engine measured ${s.protection})`,
    `- reviews: AGENT:verdict pairs separated by spaces, verdict one of ${REVIEW_TOKEN_VERDICTS.join(', ')} (the reviews: ${s.reviews.map((r) => `${r.agent}:${r.verdict}`).join(' ') || 'null'}), or null`,
    '- approval: none, or pending to hold the decision for a human (always pending with ask_user)',
    '- on_approve, on_deny: the class a human approval or denial applies (both required with ask_user), else null',
    `- stop_reason: with class stop, one of ${STOP_REASONS.join(', ')}; else null`,
    '- source: agent',
    '- reason: one line: why this class',
    '- next: one line: what the next session should do, or null',
  ];
}

export function renderSupervisorPrompt(input: SupervisorPromptInput): string {
  const s = input.suggested;
  const lines = [
    `You are ${input.agent}, the SUPERVISOR deciding session ${input.sessionLabel} of a LOOP-STATION loop.`,
    '',
    ...brief(input),
    '',
    ...(input.lastSession
      ? [
          `The budget is spent (${input.lastSession}): the loop ends after this decision, whatever class you write.`,
          "Your class decides only whether this session's candidate becomes the best: promote makes it the best; any other class leaves the best as it is.",
          '',
        ]
      : []),
    'Read the session artifacts and the reviews:',
    ...input.artifacts.map((a) => `- ${a}`),
    '',
    ...(input.pack ? [...packLines(input.pack, input.config.evidence.command), ''] : []),
    ...(input.remaining ? [`Budget left after this session: ${remainingText(input.remaining)}.`, ''] : []),
    'Weigh the executor report, the evidence, the reviews and the history, and decide yourself. One of your inputs:',
    `- Built-in rules' suggestion (a mechanical reading of the numbers, not the answer): class ${s.class}${s.reason ? ` — ${s.reason}` : ''}.`,
    '',
    `Write ${input.decisionPath}. It must open with a fenced block whose info string is loop-station-decision, one \`key: value\` line per key, in this order (null for none):`,
    ...decisionKeyLines(s),
    'then the sections ## Integrated Judgment, ## Remaining Budget, ## Best Known Candidate, ## Retired Axes, ## Pivot Decision, ## Next Action.',
    'The engine holds the decision to its gates: a promote without a measured value, with failing protection or with a changed protected file becomes needs_more_evidence; a stop that no budget or user asked for becomes ask_user (the human approves the stop or denies it); budgets and user stops always win.',
  ];
  if (input.instructions) lines.push('', input.instructions);
  return `${lines.join('\n')}\n`;
}
