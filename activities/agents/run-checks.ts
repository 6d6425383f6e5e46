import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { type CliRunFiles, preflightResult } from './cli-run.js';
import type { CliVersionCheck } from './cli-versions.js';
import type { LoginProblem } from './logins.js';
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
