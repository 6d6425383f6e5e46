import { z } from 'zod';
import { formatDuration } from '../duration.js';
import { contractPath } from '../layout.js';
import { makeFinding } from '../finding.js';
import type { Finding } from './finding.js';
import type { LoopConfig } from './loop-config.js';
import { AGENT_TOKEN_RE, DECISION_CLASSES, PROTOCOL_VERSION } from '../vocabulary.js';

/** contract.json (docs/protocol.md#contract): the engine writes every key in this order; readers are lenient. */

const DurationText = z
  .string()
  .regex(/^(?:(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$/, 'must be a duration such as 8h or 1h30m')
  .refine((s) => s !== '', 'must not be empty');

export const ReviewWaitPolicySchema = z.strictObject({
  required_done_count: z.int().nonnegative(),
  optional_done_count: z.int().nonnegative(),
  start_timeout_seconds: z.number().nonnegative(),
  done_timeout_seconds: z.number().nonnegative(),
  heartbeat_timeout_seconds: z.number().nonnegative(),
  sequential_flag_gate: z.boolean(),
  require_artifact_for_done: z.boolean(),
  continuous_monitor: z.strictObject({
    enabled: z.boolean(),
    poll_interval_seconds: z.number().positive(),
    ready_signal_once_per_session: z.boolean(),
    dedupe_by_loop_root_and_reviewer: z.boolean(),
  }),
  allow_skip_on_timeout: z.boolean(),
});
export type ReviewWaitPolicy = z.infer<typeof ReviewWaitPolicySchema>;

export const AmendmentSchema = z.strictObject({
  at: z.string(),
  session: z.int().nonnegative(),
  /** `extendBudget`, or the frame change (`goal_change`, `scope_expansion` …) a human approved. */
  kind: z.string().min(1),
  field: z.string().min(1),
  before: z.unknown(),
  after: z.unknown(),
  note: z.string(),
  /** Who asked for it: the client identity of the message (InterventionSchema `by`), when known. */
  by: z.string().optional(),
});
export type Amendment = z.infer<typeof AmendmentSchema>;

export const ContractSchema = z.strictObject({
  protocol_version: z.literal(PROTOCOL_VERSION),
  frame_locked: z.boolean(),
  locked_at: z.string(),
  loop_name: z.string(),
  workflow_id: z.string(),
  goal: z.strictObject({
    summary: z.string(),
    success_criteria: z.array(z.string()),
    protection_criteria: z.array(z.string()),
  }),
  budget: z.strictObject({
    max_sessions: z.int().positive(),
    wall_time_limit: DurationText.nullable(),
    per_run_limit: DurationText.nullable(),
    token_limit: z.int().positive().nullable(),
    cost_limit: z.number().positive().nullable(),
    resource_pool: z.array(z.string()),
  }),
  evidence: z.strictObject({
    summary: z.string(),
    command: z.string(),
    metric: z.string(),
    direction: z.enum(['maximize', 'minimize']),
    artifacts: z.array(z.string()),
  }),
  work_unit_scope: z.strictObject({
    mode: z.enum(['single', 'fixed_set', 'robustness_set']),
    items: z.array(z.string()),
    overfit_allowed: z.boolean(),
  }),
  collaboration_mode: z.strictObject({
    mode: z.enum(['supervisor_only', 'external_review_flag', 'executor_reviewer_split']),
    required_reviewers: z.array(z.string()),
    optional_reviewers: z.array(z.string()),
    reviewer_identity_required: z.boolean(),
    reviewer_identity_fields: z.array(z.string()),
  }),
  user_intervention_points: z.strictObject({
    requires_user_approval: z.array(z.string()),
    ask_before: z.array(z.enum(DECISION_CLASSES)),
  }),
  loop_output_root: z.string(),
  review_flag_format: z.string(),
  review_wait_policy: ReviewWaitPolicySchema,
  current_session: z.int().nonnegative(),
  summary_policy: z.strictObject({
    summary_root: z.string(),
    update_before_supervisor_terminal: z.boolean(),
    session_ledger_required: z.boolean(),
    rolling_summary_required: z.boolean(),
    compact_handoff_required: z.boolean(),
    executor_brief_required: z.boolean(),
    log_trend_summary_required: z.boolean(),
    reviewer_rollup_required_when_reviewer_can_write: z.boolean(),
    reviewer_owns_log_trend_digest: z.boolean(),
    executor_avoids_historical_raw_log_scan_by_default: z.boolean(),
  }),
  compaction_policy: z.strictObject({
    enabled: z.boolean(),
    compact_only_at_clean_boundary: z.boolean(),
    compact_after_long_reviewer_standby: z.boolean(),
    require_summary_update_before_compact: z.boolean(),
    compact_every_sessions: z.int().positive(),
    resume_read_order: z.array(z.string()),
  }),
  decision_policy: z.strictObject({
    supervisor: z.enum(['builtin', 'agent']),
    plateau_sessions: z.int().positive(),
    min_delta: z.number().nonnegative(),
  }),
  workspace: z.array(z.string()),
  protected: z.array(z.string()),
  stale: z.boolean(),
  amendments: z.array(AmendmentSchema),
});
export type Contract = z.infer<typeof ContractSchema>;

export const CONTRACT_KEYS = Object.keys(ContractSchema.shape) as (keyof Contract)[];

export const REVIEW_FLAG_FORMAT = '{AGENT_NAME}-SESSION{NNN}-{ROLE}-{STATUS}';
export const REVIEWER_IDENTITY_FIELDS = ['agent_name', 'model_or_version', 'instruction_profile', 'role'];
export const REQUIRES_USER_APPROVAL = [
  'direct_maintained_source_edit',
  'budget_increase',
  'goal_change',
  'scope_expansion',
];
/** Resume read order (§8) as the contract states it; the last two name the newest files of their kind. */
export const CONTRACT_RESUME_READ_ORDER = [
  'loop_station/contract.json',
  'loop_station/FRAME.md',
  'loop_station/summaries/COMPACT_HANDOFF.md',
  'loop_station/summaries/EXECUTOR_BRIEF.md',
  'loop_station/summaries/LOG_TREND_SUMMARY.md',
  'loop_station/summaries/ROLLING_SUMMARY.md',
  'loop_station/summaries/SESSION_LEDGER.md',
  'latest loop_station/sessions/session_NNN/decision.md',
  'latest loop_station/reviews/session_NNN/*.md',
];
/** The flag watcher's slow poll next to file events (§5 continuous_monitor). */
export const WATCHER_POLL_SECONDS = 5;

export interface BuildContractInput {
  config: LoopConfig;
  workflowId: string;
  lockedAt: string;
  currentSession: number;
  amendments: readonly Amendment[];
}

const seconds = (ms: number): number => ms / 1000;
const durationOrNull = (ms: number | null): string | null => (ms === null ? null : formatDuration(ms));

/** The contract the engine writes at lock, session start and amendment; keys in §4 order. */
export function buildContract({
  config,
  workflowId,
  lockedAt,
  currentSession,
  amendments,
}: BuildContractInput): Contract {
  const required = config.reviewers.filter((r) => r.required).map((r) => r.token);
  const optional = config.reviewers.filter((r) => !r.required).map((r) => r.token);
  const external = config.reviewers.some((r) => r.kind === 'external');
  const { evidence, budget } = config;
  return {
    protocol_version: PROTOCOL_VERSION,
    frame_locked: true,
    locked_at: lockedAt,
    loop_name: config.name,
    workflow_id: workflowId,
    goal: { summary: config.goal, success_criteria: [...evidence.success], protection_criteria: [...evidence.protect] },
    budget: {
      max_sessions: budget.sessions,
      wall_time_limit: durationOrNull(budget.wallClockMs),
      per_run_limit: durationOrNull(budget.perRunMs),
      token_limit: budget.tokens,
      cost_limit: budget.costUsd,
      resource_pool: [...budget.resources],
    },
    evidence: {
      summary: `${evidence.direction} ${evidence.metric} via ${evidence.command}`,
      command: evidence.command,
      metric: evidence.metric,
      direction: evidence.direction,
      artifacts: [...evidence.artifacts],
    },
    work_unit_scope: { mode: 'single', items: [], overfit_allowed: false },
    collaboration_mode: {
      mode:
        config.reviewers.length === 0
          ? 'supervisor_only'
          : external
            ? 'external_review_flag'
            : 'executor_reviewer_split',
      required_reviewers: required,
      optional_reviewers: optional,
      reviewer_identity_required: true,
      reviewer_identity_fields: [...REVIEWER_IDENTITY_FIELDS],
    },
    user_intervention_points: {
      requires_user_approval: [...REQUIRES_USER_APPROVAL],
      ask_before: [...config.askBefore],
    },
    loop_output_root: config.root,
    review_flag_format: REVIEW_FLAG_FORMAT,
    review_wait_policy: {
      required_done_count: required.length,
      optional_done_count: config.reviewWait.optionalDoneCount,
      start_timeout_seconds: seconds(config.reviewWait.startMs),
      done_timeout_seconds: seconds(config.reviewWait.doneMs),
      heartbeat_timeout_seconds: seconds(config.reviewWait.heartbeatMs),
      sequential_flag_gate: true,
      require_artifact_for_done: true,
      continuous_monitor: {
        enabled: external,
        poll_interval_seconds: WATCHER_POLL_SECONDS,
        ready_signal_once_per_session: true,
        dedupe_by_loop_root_and_reviewer: true,
      },
      allow_skip_on_timeout: config.reviewWait.skipOnTimeout,
    },
    current_session: currentSession,
    summary_policy: {
      summary_root: 'loop_station/summaries',
      update_before_supervisor_terminal: true,
      session_ledger_required: true,
      rolling_summary_required: true,
      compact_handoff_required: true,
      executor_brief_required: true,
      log_trend_summary_required: true,
      reviewer_rollup_required_when_reviewer_can_write: true,
      reviewer_owns_log_trend_digest: true,
      executor_avoids_historical_raw_log_scan_by_default: true,
    },
    compaction_policy: {
      enabled: true,
      compact_only_at_clean_boundary: true,
      compact_after_long_reviewer_standby: true,
      require_summary_update_before_compact: true,
      compact_every_sessions: config.compactEvery,
      resume_read_order: [...CONTRACT_RESUME_READ_ORDER],
    },
    decision_policy: {
      supervisor: config.supervisor === null ? 'builtin' : 'agent',
      plateau_sessions: evidence.plateau,
      min_delta: evidence.minDelta,
    },
    workspace: [...config.workspace],
    protected: [...config.protected],
    stale: false,
    amendments: amendments.map((a) => ({ ...a })),
  };
}

/** JSON text of the contract, keys in §4 order, two-space indent, final newline. */
export function renderContract(contract: Contract): string {
  const checked = ContractSchema.parse(contract);
  const ordered = Object.fromEntries(CONTRACT_KEYS.map((k) => [k, checked[k]]));
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** What readers of any folder (engine or original) need from a contract. */
export interface ContractView {
  protocolVersion: string | null;
  currentSession: number;
  loopOutputRoot: string;
  requiredReviewers: string[];
  optionalReviewers: string[];
  requiredDoneCount: number;
  optionalDoneCount: number;
  allowSkipOnTimeout: boolean;
  metric: string | null;
  direction: 'maximize' | 'minimize' | null;
  maxSessions: number | null;
}

export interface ReadContractResult {
  /** Set when the text is a complete engine contract. */
  contract: Contract | null;
  /** What a reader can use, defaults filled in; null only when the text is no JSON object. */
  view: ContractView | null;
  findings: Finding[];
}

/** Fields every reader needs (§4 "Drift"); the rest default. */
const REQUIRED_FEW: readonly string[] = [
  'frame_locked',
  'goal',
  'budget',
  'loop_output_root',
  'review_flag_format',
  'review_wait_policy',
  'current_session',
];

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

const asStringArray = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const asRecord = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
/** A non-negative integer, or its decimal text (the original wrote `"007"`). */
const asInt = (v: unknown): number | undefined =>
  Number.isInteger(v) && (v as number) >= 0
    ? (v as number)
    : typeof v === 'string' && /^\d+$/.test(v)
      ? Number(v)
      : undefined;

/**
 * Reads contract.json leniently. With `protocol_version` every §4 deviation is a CONTRACT_INVALID
 * error; without (an original folder) only a missing required-few field or a bad current_session is,
 * other deviations and unknown fields warn, and absent fields default.
 */
export function readContract(text: string): ReadContractResult {
  const where = { session: null, file: contractPath };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const f = makeFinding(
      'engine',
      'CONTRACT_INVALID',
      where,
      `contract.json is not JSON: ${(error as Error).message}`,
      'rewrite contract.json as one JSON object (docs/protocol.md#contract)',
    );
    return { contract: null, view: null, findings: [f] };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    const f = makeFinding(
      'engine',
      'CONTRACT_INVALID',
      where,
      'contract.json is not a JSON object',
      'rewrite contract.json as one JSON object (docs/protocol.md#contract)',
    );
    return { contract: null, view: null, findings: [f] };
  }
  const raw = json as Record<string, unknown>;
  const engine = 'protocol_version' in raw;
  const findings: Finding[] = [];
  const add = (
    code: 'CONTRACT_INVALID' | 'CONTRACT_EVIDENCE_MISSING',
    message: string,
    fix: string,
    warning: boolean,
  ) => {
    findings.push({
      ...makeFinding(engine ? 'engine' : 'original', code, where, message, fix),
      ...(warning ? { severity: 'warning' as const } : {}),
    });
  };
  for (const key of REQUIRED_FEW)
    if (!(key in raw))
      add(
        'CONTRACT_INVALID',
        `contract.json lacks ${key}`,
        `add ${key} to contract.json (docs/protocol.md#contract)`,
        false,
      );
  if (!('evidence' in raw))
    add(
      'CONTRACT_EVIDENCE_MISSING',
      'contract.json has no evidence: metric and direction are unknown',
      'add evidence {summary, command, metric, direction, artifacts} to contract.json',
      true,
    );
  if ('current_session' in raw && asInt(raw.current_session) === undefined) {
    add(
      'CONTRACT_INVALID',
      `contract.json: current_session: ${JSON.stringify(raw.current_session)} is not a session number`,
      'set current_session to the open session as an integer',
      false,
    );
  }
  const parsed = ContractSchema.safeParse(raw);
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const top = String(issue.path[0] ?? '');
    const absent = issue.code !== 'unrecognized_keys' && valueAt(raw, issue.path) === undefined;
    // Reported above; or, in an original folder, defaulted (§4 "Drift").
    if (top === 'current_session' || (absent && ((issue.path.length === 1 && REQUIRED_FEW.includes(top)) || !engine)))
      continue;
    if (issue.code === 'unrecognized_keys') {
      add(
        'CONTRACT_INVALID',
        `contract.json has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`,
        'remove the unknown fields (docs/protocol.md#contract lists every key)',
        !engine,
      );
    } else if (issue.path.length === 1 && !(top in raw)) {
      add(
        'CONTRACT_INVALID',
        `contract.json lacks ${top}`,
        `add ${top} to contract.json (docs/protocol.md#contract)`,
        false,
      );
    } else {
      const path = issue.path.join('.');
      add(
        'CONTRACT_INVALID',
        `contract.json: ${path}: ${issue.message}`,
        `correct ${path} (docs/protocol.md#contract)`,
        !engine,
      );
    }
  }
  const collab = asRecord(raw.collaboration_mode);
  const wait = asRecord(raw.review_wait_policy);
  const evidence = asRecord(raw.evidence);
  // Hand-written contracts may name a reviewer in words (`Claude Code`): no flag can carry that.
  const reviewerTokens = (key: 'required_reviewers' | 'optional_reviewers'): string[] =>
    asStringArray(collab[key])
      .map((t) => t.trim().toUpperCase())
      .filter((t) => {
        if (AGENT_TOKEN_RE.test(t)) return true;
        add(
          'CONTRACT_INVALID',
          `contract.json: collaboration_mode.${key}: ${JSON.stringify(t)} is no agent token; ignored`,
          `name the reviewer as its flags do (${AGENT_TOKEN_RE.source}), as in agent_roster.md`,
          !engine,
        );
        return false;
      });
  const required = reviewerTokens('required_reviewers');
  const view: ContractView = {
    protocolVersion: typeof raw.protocol_version === 'string' ? raw.protocol_version : null,
    currentSession: asInt(raw.current_session) ?? 0,
    loopOutputRoot: typeof raw.loop_output_root === 'string' ? raw.loop_output_root : '',
    requiredReviewers: required,
    optionalReviewers: reviewerTokens('optional_reviewers'),
    // The original's default is 1; the engine writes the number of required reviewers (§5).
    requiredDoneCount: asInt(wait.required_done_count) ?? (engine ? required.length : 1),
    optionalDoneCount: asInt(wait.optional_done_count) ?? 0,
    allowSkipOnTimeout: typeof wait.allow_skip_on_timeout === 'boolean' ? wait.allow_skip_on_timeout : true,
    metric: typeof evidence.metric === 'string' ? evidence.metric : null,
    direction: evidence.direction === 'maximize' || evidence.direction === 'minimize' ? evidence.direction : null,
    maxSessions: asInt(asRecord(raw.budget).max_sessions) ?? null,
  };
  return { contract: parsed.success ? parsed.data : null, view, findings };
}
