import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from '../paths.js';
import { modelFor } from '../../protocol/models.js';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { ClaudeOptionsSchema, type ClaudeOptions } from '../../protocol/schemas/agents/claude.js';
import { applyClaudeEvent, claudeFailure, initialClaudeState, type ClaudeStreamState } from './claude-events.js';
import {
  cliEnvironment,
  finishRun,
  launchCli,
  launchedResult,
  launchWithNudge,
  type LaunchPlan,
  mustWrite,
  preflightResult,
  prepareCliRun,
  previousHeartbeat,
  priorAgentRun,
  resumePrompt,
  threadToResume,
} from './cli-run.js';
import { checkCliVersion, installHint } from './cli-versions.js';
import { resolveExecutable } from './executable.js';
import { cliFixes } from './failures.js';
import { selectImages } from './images.js';
import { CLAUDE_LOGIN_FIX, resolveClaudeLogin } from './logins.js';
import type { RunAgentInput } from './run-agent.js';
import { agentOptions, budgetStoppedResult, cliVersionResult, limitReachedResult, loginResult } from './run-checks.js';
import { BudgetStop, ClaudeRunMeter, leftAfter } from './run-meter.js';
import { carryThread, rememberThreadCost, threadCostSoFar } from './thread-store.js';
import { unattendedNote } from './unattended-note.js';

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
  if (input.resumeSessionId) args.push('--resume', input.resumeSessionId);
  if (input.maxBudgetUsd !== undefined && input.maxBudgetUsd !== null)
    args.push('--max-budget-usd', String(Math.max(0.000001, input.maxBudgetUsd)));
  args.push('--append-system-prompt', input.roleNote, '--', input.prompt);
  return args;
}

/**
 * The tools a reviewer may use without asking, besides the spec's: the loop's evidence command (to
 * rerun it and check a claim) and reading the root. Claude Code's rule `Bash(<prefix>:*)` allows a
 * command that starts with the prefix.
 */
export function reviewerTools(evidenceCommand: string | null | undefined): string[] {
  const tools = ['Read', 'Glob', 'Grep'];
  if (evidenceCommand) tools.push(`Bash(${evidenceCommand.trim()}:*)`);
  return tools;
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
    ...(r && r.permissionDenials.length > 0 ? { permissionDenials: r.permissionDenials } : {}),
  };
  if (base.status !== 'exited') return result;
  const classified = claudeFailure(state, { exitCode: base.exitCode, signal: base.signal, stderr: base.stderrTail });
  if (classified === null) return result;
  const failed = { ...result, failure: classified };
  if (r === null)
    return {
      ...failed,
      reason:
        classified.code === 'cli_arguments'
          ? classified.message
          : `${base.reason ?? 'exited with code 0'} without a result line`,
    };
  switch (classified.code) {
    case 'usage_limit':
    case 'rate_limited':
      return limitReachedResult(
        failed,
        'Claude Code',
        state.rejectedResetsAt === null ? null : new Date(state.rejectedResetsAt * 1000).toISOString(),
      );
    case 'not_logged_in':
      return { ...failed, status: 'auth_missing', reason: CLAUDE_AUTH_REASON };
    case 'invalid_credentials':
      return { ...failed, status: 'auth_missing', reason: `the API refused the credentials: ${classified.message}` };
    default:
      return { ...failed, reason: `${r.subtype ?? 'error'}: ${r.text ?? r.errors[0] ?? '(no message)'}` };
  }
}

/**
 * The Claude Code adapter: `claude -p` in stream-json mode in the loop root, with its own
 * CLAUDE_CONFIG_DIR, stdin closed, heartbeats from the stream, the tree stopped with SIGTERM then
 * SIGKILL. A retry resumes the previous attempt's session and subtracts the cost it had reported; a
 * run given `resumeThreadId` continues that session. Every run gets the unattended note in its
 * system prompt, the images' paths to read, and one nudge in the same session if it stops without
 * its files. A reviewer may run the loop's evidence command; refused tool uses are reported.
 */
export async function runClaudeAgent(input: RunAgentInput): Promise<AgentRunResult> {
  const startedMs = Date.now();
  const previous = previousHeartbeat();
  const { durable, prior } = await priorAgentRun(input, CLAUDE_GRACE_MS);
  const options = agentOptions(input, 'claude', ClaudeOptionsSchema);
  const thread = threadToResume(input, previous, prior);
  const firstPrompt = thread?.retry ? resumePrompt(input.prompt) : input.prompt;
  const files = await prepareCliRun(input, prior, firstPrompt);
  const env = cliEnvironment(input, files);
  env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  const model = modelFor('claude', input.agent.model)!;

  const command = input.agent.command ?? 'claude';
  const binary = resolveExecutable(command, env.PATH, input.root);
  if (binary === undefined) {
    const reason = `${command} not found${command.includes('/') ? '' : ' on PATH'}: install Claude Code with \`${installHint('claude')}\`, or set command: to the claude binary in the spec`;
    return finishRun(input, files, {
      ...preflightResult('not_installed', reason, files, startedMs, cliFixes('claude').notInstalled),
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
    bare: options.bare === true,
  });
  // Unset: Claude Code then uses the user's own ~/.claude (and, on macOS, the Keychain entry of that default).
  if (auth.stateDir === null) delete env.CLAUDE_CONFIG_DIR;
  else env.CLAUDE_CONFIG_DIR = auth.stateDir;
  const configDir = auth.stateDir ?? process.env.CLAUDE_CONFIG_DIR ?? join(homedir(), '.claude');
  const known = { login: auth.login, cliVersion: version.version, model };
  if (auth.problem !== null)
    return finishRun(input, files, { ...loginResult(auth.problem, files, startedMs), ...known, login: 'none' });
  if (thread !== null) carryThread('claude', input.root, configDir, thread.id);

  const images = selectImages(input.root, input.images ?? []);
  const roleNote = unattendedNote({
    agent: input.agent.token,
    role: input.role,
    session: input.session,
    mustWrite: mustWrite(input),
    images: { selection: images, attached: false, root: input.root },
  });
  const allowedTools = [
    ...(options.allowedTools ?? []),
    ...(input.role === 'REVIEWER' ? reviewerTools(input.evidenceCommand) : []),
  ];
  // total_cost_usd is cumulative over a session's processes: what was reported before this run's
  // launches, by the attempt this one retries or by earlier runs of the loop in the same session.
  let costBefore = Math.max(
    thread?.retry && typeof previous?.reportedCostUsd === 'number' ? previous.reportedCostUsd : 0,
    thread ? threadCostSoFar(input.root, thread.id) : 0,
  );
  // What the run may still spend: a nudge after a first launch has that launch's usage taken off.
  let budgetLeft = input.budgetLeft;
  const launchOnce = async (plan: LaunchPlan): Promise<AgentRunResult> => {
    const args = claudeArgs({
      model,
      permissionMode: options.permissionMode,
      allowedTools,
      maxTurns: options.maxTurns,
      bare: options.bare,
      roleNote,
      prompt: plan.prompt,
      resumeSessionId: plan.resumeId,
      maxBudgetUsd: budgetLeft?.costUsd ?? null,
    });
    const state = initialClaudeState();
    const before = costBefore;
    const meter = new ClaudeRunMeter();
    // Tokens are metered here; the cost limit is Claude Code's own --max-budget-usd.
    const budget = new BudgetStop(budgetLeft ? { ...budgetLeft, costUsd: null } : null);
    const launched = await launchCli({
      input,
      files,
      binary,
      args,
      env,
      startedMs: Date.now(),
      stateDirs: [configDir],
      what: plan.what,
      durable,
      prior: plan.nudge ? null : prior,
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
          sessionId: state.sessionId ?? plan.resumeId,
          tokensIn: usage ? usage.input + usage.cacheRead + usage.cacheWrite : 0,
          tokensOut: usage?.output ?? 0,
          reportedCostUsd: state.result?.totalCostUsd ?? (before > 0 ? before : null),
        };
      },
    });
    if (state.result) {
      costBefore = Math.max(costBefore, state.result.totalCostUsd);
      if (state.sessionId) rememberThreadCost(input.root, files.base, state.sessionId, state.result.totalCostUsd);
    }
    const outcome = claudeOutcome(launchedResult(launched, files, input.root), state, before);
    // Claude Code stopped itself at --max-budget-usd: the loop's cost budget is spent.
    const costStopped =
      state.result?.subtype === 'error_max_budget_usd'
        ? {
            failure: {
              kind: 'budget' as const,
              code: 'budget_cost',
              message: `stopped at the limit: the run reached the $${budgetLeft?.costUsd ?? '?'} left of the loop's cost budget`,
              fix: 'give the loop a larger budget (`loop-station extend <loop> --cost-usd X` while it runs; budget.costUsd in the spec for the next one)',
            },
          }
        : {};
    const metered = { ...budgetStoppedResult(outcome, budget, meter.figures()), ...costStopped };
    budgetLeft = leftAfter(budgetLeft, metered.usage);
    return { ...metered, sessionId: outcome.sessionId ?? plan.resumeId };
  };
  const result = await launchWithNudge(
    input,
    files,
    { prompt: firstPrompt, resumeId: thread?.id ?? null, what: thread ? `resumed session ${thread.id}` : 'run' },
    launchOnce,
  );
  return finishRun(input, files, {
    ...result,
    ...(images.attached.length + images.omitted.length > 0 ? { images } : {}),
    ...known,
  });
}
