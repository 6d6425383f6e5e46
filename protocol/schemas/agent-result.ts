import { z } from 'zod';

/**
 * What an agent run returns to the workflow, in the style of execa's result: a failed run has the
 * success shape plus why. Agent output stays in files; only tails and figures cross Temporal.
 */
export const AGENT_RUN_STATUSES = [
  'exited',
  'timeout',
  'cancelled',
  'spawn_failed',
  'output_limit',
  'usage_limit',
  'auth_missing',
  'not_installed',
] as const;
export type AgentRunStatus = (typeof AGENT_RUN_STATUSES)[number];

export const AgentUsageSchema = z.strictObject({
  tokensIn: z.int().nonnegative(),
  tokensCached: z.int().nonnegative(),
  tokensOut: z.int().nonnegative(),
  costUsd: z.number().nonnegative(),
  turns: z.int().nonnegative(),
});
export type AgentUsage = z.infer<typeof AgentUsageSchema>;

export const AgentRunResultSchema = z.strictObject({
  status: z.enum(AGENT_RUN_STATUSES),
  exitCode: z.int().nullable(),
  signal: z.string().nullable(),
  durationMs: z.int().nonnegative(),
  /** One line for people: what happened and, when it failed, why. */
  reason: z.string().nullable(),
  /** Last lines of stdout/stderr (bounded) for the ledger and error messages. */
  stdoutTail: z.string(),
  stderrTail: z.string(),
  /** Root-relative paths of the run's prompt, log and result files. */
  logPath: z.string().nullable(),
  usage: AgentUsageSchema,
  sessionId: z.string().nullable(),
  finalMessage: z.string().nullable(),
  /** Set when status is usage_limit: when the agent's provider says it resets (ISO), if it says. */
  resetAt: z.string().nullable(),
  /**
   * A retry that took over the process an earlier attempt started (its worker died): `running` =
   * watched to its end, `finished` = it had ended; its exit code was read back. Absent otherwise.
   */
  adopted: z.enum(['running', 'finished']).optional(),
});
export type AgentRunResult = z.infer<typeof AgentRunResultSchema>;

export const ZERO_USAGE: AgentUsage = { tokensIn: 0, tokensCached: 0, tokensOut: 0, costUsd: 0, turns: 0 };
