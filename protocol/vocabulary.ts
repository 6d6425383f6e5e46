/** The closed sets of the LOOP-STATION protocol (docs/protocol.md#flags, #lifecycle, #decisions, #stop-reasons). */

export const ROLES = ['EXECUTOR', 'SUPERVISOR', 'REVIEWER', 'TESTER'] as const;
export type Role = (typeof ROLES)[number];

export const STATUSES = [
  'READY',
  'STANDBY',
  'RUNNING',
  'HEARTBEAT',
  'DONE',
  'BLOCKED',
  'ABSTAIN',
  'TIMEOUT',
  'VIOLATION',
  'REPAIRED',
] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses that may occur more than once per agent, role and session (§2.3); SUPERVISOR-TIMEOUT too. */
export const REPEATABLE_STATUSES: readonly Status[] = ['HEARTBEAT', 'VIOLATION', 'REPAIRED'];

export const DECISION_CLASSES = [
  'promote',
  'keep',
  'retire',
  'return_to_best',
  'pivot_axis',
  'needs_more_evidence',
  'needs_code_variant',
  'stop',
  'ask_user',
] as const;
export type DecisionClass = (typeof DECISION_CLASSES)[number];

export const STOP_REASONS = [
  'budget_sessions',
  'budget_wall_clock',
  'budget_tokens',
  'budget_cost',
  'user_stop',
  'goal_met',
  'supervisor_stop_approved',
  'user_denied',
  'protocol_violation',
  'failed',
] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export const VERDICTS = ['supported', 'unsupported', 'uncertain'] as const;
export type Verdict = (typeof VERDICTS)[number];

/**
 * A review's token in a decision block and leaderboard.csv (`AGENT:verdict`): its verdict, how the
 * wait for it ended, or `unreviewed` (a required review skipped by policy: the decision is unreviewed).
 */
export const REVIEW_TOKEN_VERDICTS = [...VERDICTS, 'blocked', 'abstain', 'timeout', 'skipped', 'unreviewed'] as const;

export const AGENT_KINDS = ['codex', 'claude', 'shell', 'external'] as const;

/** Per agent: a new conversation every session, or one thread resumed across sessions (docs/architecture.md#agent-failures). */
export const CONTINUITY_MODES = ['fresh', 'thread'] as const;
export type ContinuityMode = (typeof CONTINUITY_MODES)[number];
export type AgentKind = (typeof AGENT_KINDS)[number];

/** Token of the built-in supervisor (docs/protocol.md#agent-tokens). */
export const BUILTIN_SUPERVISOR = 'LOOP_STATION';

/** Agent token grammar: roster name upper-cased, no `-` (docs/protocol.md#agent-tokens). */
export const AGENT_TOKEN_RE = /^[A-Z0-9][A-Z0-9._]{0,31}$/;

export const PROTOCOL_VERSION = 'loop-station/1';
