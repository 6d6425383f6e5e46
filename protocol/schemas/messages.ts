import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { classesWhere } from '../decision-traits.js';
import { DECISION_CLASSES, STOP_REASONS } from '../vocabulary.js';

/**
 * Payloads of the loop's updates, signals and queries (docs/architecture.md#messages). The workflow
 * validates them in update validators; the CLI validates them before sending.
 */

/** The limits a loop runs under now (spec budget plus audited extensions); null = no limit. */
export const BudgetLimitsSchema = z.strictObject({
  sessions: z.int(),
  wallClockMs: z.int().nullable(),
  tokens: z.int().nullable(),
  costUsd: z.number().nullable(),
  /** What `tokens` counts (protocol/budget.ts TokenCount); absent in loops started before it existed: `total`. */
  tokensCount: z.enum(['uncached', 'total']).optional(),
});
export type BudgetLimits = z.infer<typeof BudgetLimitsSchema>;

const NOTE_MAX = 4000;
const note = z.string().max(NOTE_MAX, `must be at most ${NOTE_MAX} characters`);

export const StopInputSchema = z.strictObject({
  mode: z.enum(['now', 'after-session']).default('after-session'),
  reason: note.default(''),
});
export type StopInput = z.input<typeof StopInputSchema>;

export const RedirectInputSchema = z.strictObject({
  note: note.trim().min(1, 'must not be empty: say what the next sessions should do instead'),
});
export type RedirectInput = z.input<typeof RedirectInputSchema>;

export const PauseInputSchema = z.strictObject({ note: note.default('') });
export type PauseInput = z.input<typeof PauseInputSchema>;

/** The classes an approve may not name instead of the pending one (ask_user would only ask again). */
const NOT_APPROVABLE = classesWhere((t) => !t.approvable);

export const ApproveInputSchema = z.strictObject({
  session: z.int().positive(),
  decision: z
    .enum(DECISION_CLASSES)
    .exclude(NOT_APPROVABLE, {
      message: `must be one of ${DECISION_CLASSES.filter((c) => !(NOT_APPROVABLE as readonly string[]).includes(c)).join(', ')} (an approve applies a decision; ${NOT_APPROVABLE.join(' and ')} would not)`,
    })
    .optional(),
  note: note.default(''),
});
export type ApproveInput = z.input<typeof ApproveInputSchema>;

export const DenyInputSchema = z.strictObject({
  session: z.int().positive(),
  note: note.default(''),
});
export type DenyInput = z.input<typeof DenyInputSchema>;

const durationText = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, { message: 'must be a duration like 2h, 30m or 90s' });

export const ExtendBudgetInputSchema = z
  .strictObject({
    sessions: z.int().positive().optional(),
    wallClock: durationText.optional(),
    tokens: z.int().positive().optional(),
    costUsd: z.number().positive().optional(),
    note: note.default(''),
  })
  .refine(
    (v) => v.sessions !== undefined || v.wallClock !== undefined || v.tokens !== undefined || v.costUsd !== undefined,
    {
      message: 'name at least one of sessions, wallClock, tokens, costUsd',
    },
  );
export type ExtendBudgetInput = z.input<typeof ExtendBudgetInputSchema>;

export const ExternalFlagInputSchema = z.strictObject({
  file: z.string().min(1).max(256),
  session: z.int().positive().optional(),
});
export type ExternalFlagInput = z.input<typeof ExternalFlagInputSchema>;

/** Acknowledgement returned by every update. */
export const AckSchema = z.strictObject({ accepted: z.literal(true), message: z.string() });
export type Ack = z.infer<typeof AckSchema>;

export const LOOP_PHASES = [
  'framing',
  'pending',
  'executing',
  'self_review',
  'review',
  'deciding',
  'closed',
  'paused',
  'awaiting_approval',
  'usage_wait',
  'retry_wait',
  'blocked',
  'finished',
] as const;
export type LoopPhase = (typeof LOOP_PHASES)[number];

/**
 * What the loop waits for, on the status card: a human's answer, a resume after a pause, a usage
 * reset, a retry's backoff, or a human's fix of what an agent run needs (`blocked`).
 */
export const PENDING_KINDS = ['approval', 'pause', 'usage_wait', 'retry_wait', 'blocked'] as const;

/** The `status` query (and `loop-station status --json`). */
export const LoopStatusSchema = z.strictObject({
  workflowId: z.string(),
  name: z.string(),
  goal: z.string(),
  root: z.string(),
  phase: z.enum(LOOP_PHASES),
  session: z.int().nonnegative(),
  metric: z.string(),
  direction: z.enum(['maximize', 'minimize']),
  best: z.strictObject({ session: z.int().nonnegative(), value: z.number() }).nullable(),
  baseline: z.number().nullable(),
  history: z.array(
    z.strictObject({
      session: z.int().positive(),
      class: z.enum(DECISION_CLASSES),
      value: z.number().nullable(),
      best: z.number().nullable(),
      /** A held decision's answer: the class it applied (`class` stays the held one); absent while held, and from older workers. */
      answer: z.strictObject({ kind: z.enum(['approved', 'denied']), applied: z.enum(DECISION_CLASSES) }).optional(),
    }),
  ),
  budget: BudgetLimitsSchema,
  used: z.strictObject({
    sessions: z.int(),
    wallClockMs: z.int(),
    tokens: z.int(),
    costUsd: z.number(),
  }),
  warnings: z.array(z.string()),
  /** The last evidence run's failure until a later run succeeds (also among the warnings); absent from older workers. */
  evidenceError: z.strictObject({ session: z.int().nonnegative(), error: z.string() }).nullable().optional(),
  lastDecision: z
    .strictObject({ session: z.int(), class: z.enum(DECISION_CLASSES), reason: z.string().nullable() })
    .nullable(),
  pending: z
    .strictObject({
      kind: z.enum(PENDING_KINDS),
      session: z.int().nullable(),
      decision: z.enum(DECISION_CLASSES).nullable(),
      until: z.string().nullable(),
      message: z.string(),
      command: z.string().nullable(),
      /** For an approval: the class an approve and a deny apply (`stop` ends the loop); absent from older workers. */
      onApprove: z.enum(DECISION_CLASSES).optional(),
      onDeny: z.enum(DECISION_CLASSES).optional(),
    })
    .nullable(),
  paused: z.boolean(),
  stopRequested: z.strictObject({ mode: z.enum(['now', 'after-session']), reason: z.string() }).nullable(),
  stopReason: z.enum(STOP_REASONS).nullable(),
  interventions: z.array(
    z.strictObject({
      at: z.string(),
      kind: z.string(),
      session: z.int(),
      note: z.string(),
      via: z.string(),
      /** The sender's client identity, when known (InterventionSchema). */
      by: z.string().optional(),
    }),
  ),
  startedAt: z.string(),
  updatedAt: z.string(),
});
export type LoopStatus = z.infer<typeof LoopStatusSchema>;

/** What loopWorkflow returns when it ends. */
export const LoopResultSchema = z.strictObject({
  workflowId: z.string(),
  stopReason: z.enum(STOP_REASONS),
  sessions: z.int().nonnegative(),
  best: z.strictObject({ session: z.int().nonnegative(), value: z.number() }).nullable(),
  baseline: z.number().nullable(),
  history: LoopStatusSchema.shape.history,
  interventions: LoopStatusSchema.shape.interventions,
  usage: z.strictObject({ tokens: z.int(), costUsd: z.number() }),
  finalSummary: z.string(),
});
export type LoopResult = z.infer<typeof LoopResultSchema>;

/**
 * What happened to an agent run that the loop records (ledger, status card, notifications): a
 * transient failure retried, a stall resumed or ended, a run that needs a human, an agent
 * supervisor's decision replaced by the built-in rules.
 */
export const RUN_EVENT_KINDS = ['retry', 'stall', 'blocked', 'fallback'] as const;
export type RunEventKind = (typeof RUN_EVENT_KINDS)[number];

export const RunEventSchema = z.strictObject({
  kind: z.enum(RUN_EVENT_KINDS),
  /** The agent token and role of the run. */
  agent: z.string(),
  role: z.enum(['EXECUTOR', 'SUPERVISOR', 'REVIEWER']),
  /** The failure's stable code (`overloaded`, `insufficient_quota`…), or null. */
  code: z.string().nullable(),
  note: z.string(),
  /** What the user does about it (`blocked`), else null. */
  fix: z.string().nullable(),
});
export type RunEvent = z.infer<typeof RunEventSchema>;

/** Progress the session child reports to its loop (phase changes feed search attributes and status). */
export const SessionProgressSchema = z.strictObject({
  session: z.int().positive(),
  phase: z.enum(LOOP_PHASES),
  until: z.string().nullable().optional(),
  /** A run event to record with this phase (absent in runs before them). */
  event: RunEventSchema.optional(),
});
export type SessionProgress = z.infer<typeof SessionProgressSchema>;

/** Human stop as the loop forwards it to the running session. */
export const SessionStopSchema = z.strictObject({
  mode: z.enum(['now', 'after-session']),
  reason: z.enum(STOP_REASONS),
  note: z.string(),
});
export type SessionStop = z.infer<typeof SessionStopSchema>;

/** Why a message was refused, in one readable text (zod issues prettified). */
export function messageErrorText(error: unknown): string {
  return error instanceof z.ZodError ? z.prettifyError(error) : String(error instanceof Error ? error.message : error);
}
