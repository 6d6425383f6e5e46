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

/**
 * What kind of failure a run met, decided by the adapter from the CLI's structured output and exit
 * status (docs/architecture.md#agent-failures); the workflow acts on the kind, never on the text:
 * - `transient`: overloaded, 5xx, network reset, stream cut: retried in the same session with
 *   backoff, resuming the thread;
 * - `usage_limit`: wait for the reset (`resetAt`) on a durable timer, then resume the thread;
 * - `needs_human`: quota exhausted, login missing or expired, CLI version unsupported, model not
 *   found, sandbox refused: the loop pauses (phase `blocked`) before spending another session;
 * - `stall`: no output and no file change under the root for the agent's idle timeout; killed;
 * - `budget`: the run crossed the loop's token or cost budget and was stopped at the limit;
 * - `agent`: the agent itself failed its task (a non-zero exit, a turn that failed on its own).
 */
export const AGENT_FAILURE_KINDS = ['transient', 'usage_limit', 'needs_human', 'stall', 'budget', 'agent'] as const;
export type AgentFailureKind = (typeof AGENT_FAILURE_KINDS)[number];

export const AgentFailureSchema = z.strictObject({
  kind: z.enum(AGENT_FAILURE_KINDS),
  /** A stable code for records and tests: `overloaded`, `insufficient_quota`, `not_logged_in`, `cli_version`, `budget_tokens`… */
  code: z.string().min(1),
  /** What happened, for people (one line). */
  message: z.string(),
  /** What the user does about it (`needs_human`: the exact command or setting), else null. */
  fix: z.string().nullable(),
});
export type AgentFailure = z.infer<typeof AgentFailureSchema>;

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
  /** The classified failure the workflow acts on; null or absent when the run did its task. */
  failure: AgentFailureSchema.nullable().optional(),
  /** Tool uses the CLI refused (Claude's permission_denials, Codex's refusals), one line each. */
  permissionDenials: z.array(z.string()).optional(),
  /** Processes the agent left behind when it exited (listed, then killed or waited for). */
  leftovers: z.array(z.strictObject({ pid: z.int(), command: z.string(), waitedFor: z.boolean() })).optional(),
  /** The run ended without its required files and was nudged once in the same thread. */
  nudged: z.boolean().optional(),
  /**
   * The images the run was given (`RunAgentInput.images`): those shown to the model (attached, or
   * named to open) and those left out by the caps, with why. Absent when the run was given none.
   */
  images: z
    .strictObject({
      attached: z.array(z.string()),
      omitted: z.array(z.strictObject({ path: z.string(), reason: z.string() })),
    })
    .optional(),
  /** Which credentials the CLI used: an API key from the allowed environment, the worker user's login, or none. */
  login: z.enum(['api_key', 'subscription', 'none']).nullable().optional(),
  /** The agent CLI's version (`codex --version`), and the model the run used. */
  cliVersion: z.string().nullable().optional(),
  model: z.string().nullable().optional(),
});
export type AgentRunResult = z.infer<typeof AgentRunResultSchema>;

export const ZERO_USAGE: AgentUsage = { tokensIn: 0, tokensCached: 0, tokensOut: 0, costUsd: 0, turns: 0 };
