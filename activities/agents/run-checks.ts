import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../protocol/failure-types.js';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { type CliRunFiles, preflightResult } from './cli-run.js';
import type { CliVersionCheck } from './cli-versions.js';
import type { LoginProblem } from './logins.js';
import type { RunAgentInput } from './run-agent.js';
import type { BudgetStop, RunFigures } from './run-meter.js';

/**
 * The results of a run that must not start, or was stopped at a budget limit: each with the
 * classified failure the workflow acts on (docs/architecture.md#agent-failures). A CLI outside its
 * supported range and missing credentials need a person (the loop pauses with the fix); a budget
 * crossed ends the loop with that budget's stop reason.
 */

export function cliVersionResult(
  check: Extract<CliVersionCheck, { ok: false }>,
  files: CliRunFiles,
  startedMs: number,
): AgentRunResult {
  return {
    ...preflightResult('not_installed', `${check.problem}; fix: ${check.fix}`, files, startedMs, check.fix),
    failure: { kind: 'needs_human', code: 'cli_version', message: check.problem, fix: check.fix },
    cliVersion: check.version,
  };
}

export function loginResult(problem: LoginProblem, files: CliRunFiles, startedMs: number): AgentRunResult {
  return {
    ...preflightResult('auth_missing', `${problem.message}; fix: ${problem.fix}`, files, startedMs, problem.fix),
    failure: { kind: 'needs_human', code: 'not_logged_in', message: problem.message, fix: problem.fix },
    login: 'none',
  };
}

/**
 * A run the budget stop ended: its figures are the larger of what the stream said and what the
 * meter read (a killed Codex turn never reports its usage), its failure the budget it crossed.
 */
export function budgetStoppedResult(result: AgentRunResult, stop: BudgetStop, figures: RunFigures): AgentRunResult {
  const failure = stop.failure();
  if (failure === null) return result;
  const usage =
    figures.tokensIn + figures.tokensOut > result.usage.tokensIn + result.usage.tokensOut
      ? { ...result.usage, ...figures, costUsd: Math.max(figures.costUsd, result.usage.costUsd) }
      : result.usage;
  return { ...result, usage, reason: failure.message, failure };
}

/**
 * A run that met the CLI's usage limit or a rate limit its own retries did not outlast: the status
 * stays `usage_limit`, which the workflow waited on before failure classes existed.
 */
export function limitReachedResult(
  failed: AgentRunResult & { failure: NonNullable<AgentRunResult['failure']> },
  cli: string,
  resetAt: string | null,
): AgentRunResult {
  const { code, message } = failed.failure;
  return code === 'usage_limit'
    ? {
        ...failed,
        status: 'usage_limit',
        resetAt,
        reason: `usage limit reached (resets ${resetAt ?? 'at an unknown time'}): ${message}`,
      }
    : { ...failed, status: 'usage_limit', reason: `rate limited after ${cli}'s own retries: ${message}` };
}

/** The agent's `options` read with its kind's schema; a bad one fails the run for good, naming the agent. */
export function agentOptions<T>(
  input: RunAgentInput,
  kind: string,
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { message: string } } },
): T {
  const options = schema.safeParse(input.agent.options);
  if (options.success) return options.data;
  throw ApplicationFailure.create({
    type: FailureType.InvalidInput,
    nonRetryable: true,
    message: `agent ${input.agent.token}: ${kind} options: ${options.error.message}`,
  });
}
