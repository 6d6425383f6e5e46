import { ApplicationFailure } from '@temporalio/common';
import { resolveInRoot } from '../paths.js';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { FailureType } from '../../protocol/failure-types.js';
import { ClaudeOptionsSchema, type ClaudeOptions } from '../../protocol/schemas/agents/claude.js';
import { sessionLabel } from '../../protocol/layout.js';
import { modelFor } from '../../protocol/models.js';
import {
  applyClaudeEvent,
  classifyClaudeFailure,
  initialClaudeState,
  type ClaudeStreamState,
} from './claude-events.js';
import {
  cliEnvironment,
  finishRun,
  launchCli,
  launchedResult,
  preflightResult,
  prepareCliRun,
  previousHeartbeat,
  priorAgentRun,
  resumePrompt,
} from './cli-run.js';
import { checkCliVersion, installHint } from './cli-versions.js';
import { resolveExecutable } from './executable.js';
import { CLAUDE_LOGIN_FIX, resolveClaudeLogin } from './logins.js';
import { BudgetStop, ClaudeRunMeter } from './run-meter.js';
import type { RunAgentInput } from './run-agent.js';
import { budgetStoppedResult, cliVersionResult, loginResult } from './run-checks.js';

/** Claude Code exits about 1.2 s after SIGTERM, having killed its Bash tools; SIGKILL only after that. */
const CLAUDE_GRACE_MS = 2500;

export interface ClaudeArgsInput {
  model: string;
  /** @default 'acceptEdits': under `default` every write is denied in -p mode, yet the run exits 0. */
  permissionMode?: ClaudeOptions['permissionMode'];
  allowedTools?: readonly string[];
  maxTurns?: number;
  bare?: boolean;
  /** Appended to Claude Code's system prompt: who this run is and what it must leave behind. */
  roleNote: string;
  prompt: string;
  /** A session to continue with `--resume`. */
  resumeSessionId?: string | null;
  /** What is left of the loop's cost budget: Claude Code stops itself there (`--max-budget-usd`). */
  maxBudgetUsd?: number | null;
}

/** The argv of `claude -p` (docs/architecture.md#agent-cli-invocation); stream-json needs --verbose, `--` ends the variadic flags. */
export function claudeArgs(input: ClaudeArgsInput): string[] {
  const args = [
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    '--model',
    input.model,
    '--permission-mode',
    input.permissionMode ?? 'acceptEdits',
  ];
  if (input.allowedTools && input.allowedTools.length > 0) args.push('--allowedTools', ...input.allowedTools);
  if (input.maxTurns !== undefined) args.push('--max-turns', String(input.maxTurns));
  if (input.bare) args.push('--bare');
  if (input.maxBudgetUsd !== undefined && input.maxBudgetUsd !== null)
    args.push('--max-budget-usd', String(Math.max(0.000001, input.maxBudgetUsd)));
  if (input.resumeSessionId) args.push('--resume', input.resumeSessionId);
  args.push('--append-system-prompt', input.roleNote, '--', input.prompt);
  return args;
}

function claudeRoleNote(input: Pick<RunAgentInput, 'role' | 'session' | 'output' | 'agent'>): string {
  return [
    `You run unattended as ${input.agent.token}, the ${input.role} of session ${sessionLabel(input.session)} of a loop-station loop; nobody will answer questions.`,
    `Leave your result in ${input.output} (relative to the working directory). Never write under loop_station/flags/: the engine writes every flag.`,
  ].join(' ');
}

/** A login that was there when the run started but is refused now (expired, logged out meanwhile). */
const CLAUDE_AUTH_REASON = `Claude Code is not logged in ("Not logged in · Please run /login"): ${CLAUDE_LOGIN_FIX}`;

function claudeOutcome(base: AgentRunResult, state: ClaudeStreamState, previousCostUsd: number): AgentRunResult {
  const r = state.result;
  const result: AgentRunResult = {
    ...base,
    sessionId: state.sessionId,
    finalMessage: r?.text ?? null,
    usage: r
      ? {
          tokensIn: r.usage.input + r.usage.cacheRead + r.usage.cacheWrite,
          tokensCached: r.usage.cacheRead + r.usage.cacheWrite,
          tokensOut: r.usage.output,
          // total_cost_usd is cumulative across --resume; usage is this process's alone.
          costUsd: Math.max(0, r.totalCostUsd - previousCostUsd),
          turns: r.turns,
        }
      : base.usage,
  };
  if (base.status !== 'exited') return result;
  if (r === null) return { ...result, reason: `${base.reason ?? 'exited with code 0'} without a result line` };
  if (!r.isError) return result;
  const text = r.text ?? '(no message)';
  switch (classifyClaudeFailure(state)) {
    case 'usage_limit': {
      const resetAt = state.rejectedResetsAt === null ? null : new Date(state.rejectedResetsAt * 1000).toISOString();
      return {
        ...result,
        status: 'usage_limit',
        resetAt,
        reason: `usage limit reached (resets ${resetAt ?? 'at an unknown time'}): ${text}`,
      };
    }
    case 'not_logged_in':
      return { ...result, status: 'auth_missing', reason: CLAUDE_AUTH_REASON };
    case 'credentials':
      return { ...result, status: 'auth_missing', reason: `the API refused the credentials: ${text}` };
    case 'other':
      return { ...result, reason: `${r.subtype ?? 'error'}: ${text}` };
  }
}

/**
 * The Claude Code adapter: `claude -p` in stream-json mode in the loop root, after its version and
 * credentials are checked (a key in its own CLAUDE_CONFIG_DIR, or the worker user's login in the
 * user's: logins.ts), stdin closed, heartbeats from the stream, stopped at a token budget and by its
 * own --max-budget-usd at a cost budget, the tree stopped with SIGTERM then SIGKILL. A retry resumes
 * the previous attempt's session and subtracts the cost it had reported.
 */
export async function runClaudeAgent(input: RunAgentInput): Promise<AgentRunResult> {
  const startedMs = Date.now();
  const previous = previousHeartbeat();
  const { durable, prior } = await priorAgentRun(input, CLAUDE_GRACE_MS);
  const options = ClaudeOptionsSchema.safeParse(input.agent.options);
  if (!options.success) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      nonRetryable: true,
      message: `agent ${input.agent.token}: claude options: ${options.error.message}`,
    });
  }
  const files = await prepareCliRun(input, prior);
  const env = cliEnvironment(input, files);
  env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  const model = modelFor('claude', input.agent.model)!;

  const command = input.agent.command ?? 'claude';
  const binary = resolveExecutable(command, env.PATH, input.root);
  if (binary === undefined) {
    const fix = `install Claude Code with \`${installHint('claude')}\`, or set command: to the claude binary in the spec`;
    const reason = `${command} not found${command.includes('/') ? '' : ' on PATH'}: ${fix}`;
    return finishRun(input, files, {
      ...preflightResult('not_installed', reason, files, startedMs),
      failure: { kind: 'needs_human', code: 'not_installed', message: `${command} not found`, fix },
      model,
    });
  }
  const version = await checkCliVersion('claude', binary, env);
  if (!version.ok) return finishRun(input, files, { ...cliVersionResult(version, files, startedMs), model });
  const auth = await resolveClaudeLogin({
    binary,
    env,
    worker: process.env,
    runDir: resolveInRoot(input.root, `${files.base}.claude`),
    cwd: input.root,
    bare: options.data.bare === true,
  });
  // Unset: Claude Code then uses the user's own ~/.claude (and, on macOS, the Keychain entry of that default).
  if (auth.stateDir === null) delete env.CLAUDE_CONFIG_DIR;
  else env.CLAUDE_CONFIG_DIR = auth.stateDir;
  const known = { login: auth.login, cliVersion: version.version, model };
  if (auth.problem !== null)
    return finishRun(input, files, { ...loginResult(auth.problem, files, startedMs), ...known, login: 'none' });

  // An adopted run is the same conversation still going: nothing to resume.
  const resumeId = prior === null && typeof previous?.sessionId === 'string' ? previous.sessionId : null;
  const previousCostUsd = resumeId && typeof previous?.reportedCostUsd === 'number' ? previous.reportedCostUsd : 0;
  const args = claudeArgs({
    model,
    permissionMode: options.data.permissionMode,
    allowedTools: options.data.allowedTools,
    maxTurns: options.data.maxTurns,
    bare: options.data.bare,
    roleNote: claudeRoleNote(input),
    prompt: resumeId ? resumePrompt(input.prompt) : input.prompt,
    resumeSessionId: resumeId,
    maxBudgetUsd: input.budgetLeft?.costUsd ?? null,
  });

  const state = initialClaudeState();
  const meter = new ClaudeRunMeter();
  const budget = new BudgetStop(input.budgetLeft ? { ...input.budgetLeft, costUsd: null } : null);
  const launched = await launchCli({
    input,
    files,
    binary,
    args,
    env,
    startedMs,
    durable,
    prior,
    graceMs: CLAUDE_GRACE_MS,
    onEvent: (event) => {
      applyClaudeEvent(state, event);
      meter.apply(event);
    },
    onTick: () => budget.check(meter.figures()),
    stop: budget.signal,
    progress: () => {
      const usage = state.result?.usage;
      return {
        events: state.events,
        lastEvent: state.lastEventType,
        sessionId: state.sessionId ?? resumeId,
        tokensIn: usage ? usage.input + usage.cacheRead + usage.cacheWrite : 0,
        tokensOut: usage?.output ?? 0,
        reportedCostUsd: state.result?.totalCostUsd ?? previous?.reportedCostUsd ?? null,
      };
    },
  });
  const outcome = claudeOutcome(launchedResult(launched, files, input.root), state, previousCostUsd);
  // Claude Code stopped itself at --max-budget-usd: the loop's cost budget is spent.
  const costStopped =
    state.result?.subtype === 'error_max_budget_usd'
      ? {
          failure: {
            kind: 'budget' as const,
            code: 'budget_cost',
            message: `stopped at the limit: the run reached the $${input.budgetLeft?.costUsd ?? '?'} left of the loop's cost budget`,
            fix: 'give the loop a larger budget (`loop-station extend <loop> --cost-usd X` while it runs; budget.costUsd in the spec for the next one)',
          },
        }
      : {};
  return finishRun(input, files, {
    ...budgetStoppedResult(outcome, budget, meter.figures()),
    ...costStopped,
    ...known,
  });
}
