import { z } from 'zod';
import { DECISION_CLASSES, REVIEW_TOKEN_VERDICTS, STOP_REASONS, VERDICTS } from '../vocabulary.js';

/**
 * The engine's durable state model: what a session produces and what the loop carries across
 * continue-as-new. Renderers (protocol/render/) take these shapes; the workflow owns the values.
 */

export const MetricsSchema = z.record(z.string(), z.number());
export type Metrics = z.infer<typeof MetricsSchema>;

export const ProtectionResultSchema = z.strictObject({
  criterion: z.string(),
  value: z.number().nullable(),
  pass: z.boolean(),
});
export type ProtectionResult = z.infer<typeof ProtectionResultSchema>;

/** metrics.json (docs/protocol.md#metrics-json): the evidence command's outcome for one session. */
export const EvidenceResultSchema = z.strictObject({
  command: z.string(),
  exit_code: z.int().nullable(),
  metrics: MetricsSchema,
  metric: z.string(),
  value: z.number().nullable(),
  protection: z.array(ProtectionResultSchema),
  error: z.string().nullable(),
});
export type EvidenceResult = z.infer<typeof EvidenceResultSchema>;

/** What the executor changed beyond its own files (docs/protocol.md#executor-footprint). */
export const ExecutorFootprintSchema = z.strictObject({
  /** Files outside the workspace, the protected files and loop_station/ it changed, added or removed (`data/` for a big folder). */
  outside: z.array(z.string()),
  /** Whether any workspace file differs from the open: when not, a moved metric came from elsewhere. */
  workspaceChanged: z.boolean(),
  /** The engine's files under loop_station/ it changed, added or removed (a protocol violation). */
  engineFiles: z.array(z.string()),
  /** Of those, the ones put back from the copy taken at the open. */
  restored: z.array(z.string()),
  /** The walk stopped at its bound (activities/executor-footprint.ts): files past it were not compared. */
  truncated: z.boolean(),
});
export type ExecutorFootprint = z.infer<typeof ExecutorFootprintSchema>;

export const ExecutorOutcomeSchema = z.strictObject({
  token: z.string(),
  status: z.enum(['DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT']),
  reason: z.string().nullable(),
  /** From the report's `axis:` header; `default` when absent (docs/protocol.md#decisions). */
  axis: z.string(),
  durationMs: z.int().nonnegative(),
  tokensIn: z.int().nonnegative(),
  tokensOut: z.int().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** A one-paragraph digest of the report's Results section, for summaries. */
  digest: z.string(),
  /** The classified failure of the run that ended it (kind and code), when it failed; absent in runs before it. */
  failure: z.strictObject({ kind: z.string(), code: z.string() }).nullable().optional(),
  /**
   * Header lines and sections the report and proposal lack (`executor_report.md: section ## Evidence`),
   * for the self-review and the next executor's prompt; absent when none, and in sessions before it.
   */
  missingParts: z.array(z.string()).optional(),
  /** The proposal's Proposed Next Action, digested, for the next executor's prompt; absent when none, and before it. */
  proposedNext: z.string().optional(),
  /** Report header values the engine could not read (a status or axis), for the self-review; absent when none. */
  unreadable: z.array(z.string()).optional(),
  /** What it changed beyond its own files; absent when nothing, and in sessions before the check. */
  footprint: ExecutorFootprintSchema.optional(),
});
export type ExecutorOutcome = z.infer<typeof ExecutorOutcomeSchema>;

export const REVIEW_OUTCOMES = ['done', 'blocked', 'abstain', 'timeout', 'skipped'] as const;

export const ReviewOutcomeSchema = z.strictObject({
  agent: z.string(),
  required: z.boolean(),
  outcome: z.enum(REVIEW_OUTCOMES),
  /** Counted = DONE with its artifact, consumed before the close (docs/protocol.md#review-wait). */
  counted: z.boolean(),
  verdict: z.enum(VERDICTS).nullable(),
  recommendation: z.enum(DECISION_CLASSES).nullable(),
  file: z.string().nullable(),
  /**
   * Digest sections the summaries quote: "Historical Trend / Log Digest For Executor", "Risks Or Confounds",
   * "Recommended Next Action". Markdown with lists and code kept, links relative to loop_station/summaries/ (docs/markdown.md).
   */
  trendDigest: z.string(),
  risks: z.string(),
  nextAction: z.string(),
  /**
   * What the review wrote and the engine could not read: a verdict (then `uncertain`, and a required
   * review holds a promotion, docs/protocol.md#built-in-supervisor) or a recommendation. Absent when
   * all was read, and in runs before it.
   */
  unreadable: z.array(z.enum(['verdict', 'recommendation'])).optional(),
  /**
   * Why the engine disregarded the reviewer's flag (docs/protocol.md#repair), when its review did not
   * count: it is named so, not missing. Absent otherwise, and in runs before it.
   */
  disregarded: z.string().optional(),
});
export type ReviewOutcome = z.infer<typeof ReviewOutcomeSchema>;

/** The machine-readable block of decision.md (docs/protocol.md#decision-block), keys in file order. */
export const DecisionBlockSchema = z.strictObject({
  class: z.enum(DECISION_CLASSES),
  session: z.int().nonnegative(),
  metric: z.string().nullable(),
  value: z.number().nullable(),
  best_session: z.int().nonnegative().nullable(),
  best_value: z.number().nullable(),
  axis: z.string().nullable(),
  next_axis: z.string().nullable(),
  protection: z.enum(['pass', 'fail', 'unknown']),
  /** `unreviewed`: a required review skipped by policy (skipOnTimeout); the decision is unreviewed. */
  reviews: z.array(z.strictObject({ agent: z.string(), verdict: z.enum(REVIEW_TOKEN_VERDICTS) })),
  approval: z.enum(['none', 'pending']),
  on_approve: z.enum(DECISION_CLASSES).nullable(),
  on_deny: z.enum(DECISION_CLASSES).nullable(),
  stop_reason: z.enum(STOP_REASONS).nullable(),
  source: z.enum(['builtin', 'agent', 'builtin-fallback', 'human']),
  reason: z.string().nullable(),
  next: z.string().nullable(),
});
export type DecisionBlock = z.infer<typeof DecisionBlockSchema>;

/**
 * Human messages, plus what the engine records beside them in the ledger: `fork` (the loop was
 * started from another loop's session), `budget_warning` (a budget passed 80 %), `usage_wait`
 * (an agent hit a usage limit; the loop sleeps until its reset), and what happened to agent runs
 * (docs/architecture.md#agent-failures): `retry` (a transient failure, retried after a backoff),
 * `stall` (a silent run killed), `blocked` (a run needs a human's fix; the loop waits for resume),
 * `fallback` (an agent supervisor's decision replaced by the built-in rules), `breaker` (the
 * circuit breaker paused or stopped the loop), `ask_timeout` (a question went unanswered).
 */
export const INTERVENTION_KINDS = [
  'stop',
  'redirect',
  'pause',
  'resume',
  'approve',
  'deny',
  'extendBudget',
  'rejected',
  'fork',
  'budget_warning',
  'usage_wait',
  'retry',
  'stall',
  'blocked',
  'fallback',
  'breaker',
  'ask_timeout',
] as const;

export const InterventionSchema = z.strictObject({
  at: z.string(),
  kind: z.enum(INTERVENTION_KINDS),
  /** The session open (or about to open) when it arrived. */
  session: z.int().nonnegative(),
  note: z.string(),
  via: z.enum(['update', 'signal', 'start', 'engine']),
  /**
   * Who sent it: the Temporal client identity its history records (`alice@laptop` from the CLI,
   * `loop-station-ui@host` from the dashboard, `temporal-cli:alice@laptop`…). What the client says
   * it is, not authentication; absent for the engine's own and for messages recorded before it.
   */
  by: z.string().optional(),
});
export type Intervention = z.infer<typeof InterventionSchema>;

/** Where an update's or a signal's sender is found in the loop's history (activities/senders.ts). */
export const SenderRefSchema = z.union([
  z.strictObject({ update: z.string() }),
  /** The `nth` (from 1) signal of that name in the run. */
  z.strictObject({ signal: z.string(), nth: z.int().positive() }),
]);
export type SenderRef = z.infer<typeof SenderRefSchema>;

export const BestSchema = z.strictObject({
  session: z.int().nonnegative(),
  value: z.number(),
  metrics: MetricsSchema,
  axis: z.string().nullable(),
  /** Code variant folder (relative to root) holding the best workspace. */
  variant: z.string(),
});
export type Best = z.infer<typeof BestSchema>;

export const AxisStateSchema = z.strictObject({
  name: z.string(),
  plateau: z.int().nonnegative(),
  retired: z.boolean(),
  retiredAtSession: z.int().nullable(),
  sessions: z.int().nonnegative(),
  bestValue: z.number().nullable(),
});
export type AxisState = z.infer<typeof AxisStateSchema>;

/**
 * What the engine found of the isolated code variant a `needs_code_variant` decision asked the next
 * executor for (docs/protocol.md#code-variants): where, whether its manifest is valid, and the evidence
 * command's result on a copy of the workspace with the variant's files in place.
 */
export const CodeVariantCheckSchema = z.strictObject({
  /** Root-relative variant folder, or null when the executor made none. */
  dir: z.string().nullable(),
  /** Why it could not be measured (no variant, an invalid manifest, a missing file), or null. */
  problem: z.string().nullable(),
  evidence: EvidenceResultSchema.nullable(),
});
export type CodeVariantCheck = z.infer<typeof CodeVariantCheckSchema>;

/** One closed session, compact: a ledger / leaderboard row plus what summaries quote. */
export const SessionRecordSchema = z.strictObject({
  session: z.int().positive(),
  startedAt: z.string(),
  closedAt: z.string(),
  executor: ExecutorOutcomeSchema,
  evidence: EvidenceResultSchema.nullable(),
  reviews: z.array(ReviewOutcomeSchema),
  decision: DecisionBlockSchema,
  /** Records written to review_flags.md (REVIEW_CONSUMED:CLAUDE, VIOLATION:…). */
  records: z.array(z.string()),
  interventions: z.array(InterventionSchema),
  variant: z.string().nullable(),
  /** The isolated code variant a `needs_code_variant` decision asked for, checked and measured; absent otherwise. */
  codeVariant: CodeVariantCheckSchema.optional(),
  /**
   * What decision.md notes about how the decision was reached: an agent supervisor's keys filled from
   * the engine's state, its repair turn, the fallback's reason, each agent run's retries, waits and
   * stalls. Absent in runs before it.
   */
  notes: z.array(z.string()).optional(),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

export const UsageSchema = z.strictObject({
  /** Every input token, the cached ones included. */
  tokensIn: z.int().nonnegative(),
  /** The share of tokensIn served from the provider's cache; absent in loops started before it was recorded. */
  tokensCached: z.int().nonnegative().optional(),
  tokensOut: z.int().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type Usage = z.infer<typeof UsageSchema>;
