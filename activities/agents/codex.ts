import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { codexCostUsd, codexPrice, modelFor, type TokenPrice } from '../../protocol/models.js';
import { FailureType } from '../../protocol/failure-types.js';
import { CodexOptionsSchema, type CodexOptions } from '../../protocol/schemas/agents/codex.js';
import { resolveInRoot } from '../paths.js';
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
import {
  applyCodexEvent,
  classifyCodexFailure,
  initialCodexState,
  parseCodexResetTime,
  tokensSince,
  ZERO_CODEX_TOKENS,
  type CodexStreamState,
  type CodexTokens,
} from './codex-events.js';
import { readRollout } from './codex-rollout.js';
import { resolveExecutable } from './executable.js';
import { codexKeyVariable, resolveCodexLogin } from './logins.js';
import { BudgetStop, CodexRunMeter } from './run-meter.js';
import type { RunAgentInput } from './run-agent.js';
import { budgetStoppedResult, cliVersionResult, loginResult } from './run-checks.js';

export { codexKeyVariable };

export interface CodexArgsInput {
  root: string;
  model: string;
  /** @default 'workspace-write' */
  sandbox?: CodexOptions['sandbox'];
  effort?: CodexOptions['effort'];
  /** `-c key=value` overrides, values as TOML (`'"fake"'`) or bare strings. */
  config?: Readonly<Record<string, string>>;
  /** Absolute path of `-o`, where Codex writes its last message. */
  lastMessageFile: string;
  prompt: string;
  /** A thread to continue: `resume <id>` comes after every exec flag, since it rejects -s and -C. */
  resumeThreadId?: string | null;
}

/** The argv of `codex exec` (docs/architecture.md#agent-cli-invocation); `--` keeps a prompt like `review …` a prompt. */
export function codexArgs(input: CodexArgsInput): string[] {
  const args = [
    'exec',
    '--json',
    '--skip-git-repo-check',
    '-s',
    input.sandbox ?? 'workspace-write',
    '-C',
    input.root,
    '-m',
    input.model,
  ];
  // Plugins, apps (ChatGPT connectors, reached under a ChatGPT login) and analytics are the only
  // traffic besides the model provider's.
  args.push('--disable', 'plugins', '--disable', 'remote_plugin', '--disable', 'apps', '-c', 'analytics.enabled=false');
  for (const [key, value] of Object.entries(input.config ?? {})) args.push('-c', `${key}=${value}`);
  if (input.effort) args.push('-c', `model_reasoning_effort="${input.effort}"`);
  args.push('-o', input.lastMessageFile);
  if (input.resumeThreadId) args.push('resume', input.resumeThreadId);
  args.push('--', input.prompt);
  return args;
}

function readLastMessage(path: string): string | null {
  try {
    const text = readFileSync(path, 'utf8');
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

/** The run's outcome: the launcher's, refined by what the event stream and the rollout say. */
function codexOutcome(
  base: AgentRunResult,
  state: CodexStreamState,
  mine: CodexTokens,
  price: TokenPrice | null,
  resetFromRollout: () => string | null,
): AgentRunResult {
  const result: AgentRunResult = {
    ...base,
    usage: {
      tokensIn: mine.input,
      tokensCached: mine.cached,
      tokensOut: mine.output,
      // Codex reports no cost: it is the tokens at the model's price (protocol/models.ts).
      costUsd: codexCostUsd(mine, price),
      turns: state.turnsCompleted,
    },
    sessionId: state.threadId,
    finalMessage: state.finalMessage,
  };
  if (base.status !== 'exited') return result;
  const failure = state.turnFailure ?? (base.exitCode !== 0 ? state.lastError : null);
  if (failure === null) {
    if (base.exitCode === 0 && state.turnsCompleted === 0)
      return { ...result, reason: 'exited 0 without a turn.completed event' };
    return result;
  }
  switch (classifyCodexFailure(failure)) {
    case 'usage_limit': {
      const resetAt = resetFromRollout() ?? parseCodexResetTime(failure, new Date());
      return {
        ...result,
        status: 'usage_limit',
        resetAt,
        reason: `usage limit reached (resets ${resetAt ?? 'at an unknown time'}): ${failure}`,
      };
    }
    case 'rate_limit':
      return { ...result, status: 'usage_limit', reason: `rate limited after Codex's own retries: ${failure}` };
    case 'quota':
      return {
        ...result,
        reason: `quota exceeded (insufficient_quota): check the plan and billing of the API key: ${failure}`,
      };
    case 'credentials':
      return { ...result, status: 'auth_missing', reason: `the model provider refused the credentials: ${failure}` };
    case 'other':
      return { ...result, reason: `turn failed: ${failure}` };
  }
}

/**
 * The Codex adapter: `codex exec --json` in the loop root with its own CODEX_HOME, after its version
 * and credentials are checked (a key, or a link to the worker user's login: logins.ts), stdin
 * closed, heartbeats from the event stream, metered from its rollout and stopped at a token or cost
 * budget, the tree killed on cancel or timeout. A retry resumes the previous attempt's thread and
 * counts only this process's tokens.
 */
export async function runCodexAgent(input: RunAgentInput): Promise<AgentRunResult> {
  const startedMs = Date.now();
  const previous = previousHeartbeat();
  const { durable, prior } = await priorAgentRun(input, 1000);
  const options = CodexOptionsSchema.safeParse(input.agent.options);
  if (!options.success) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      nonRetryable: true,
      message: `agent ${input.agent.token}: codex options: ${options.error.message}`,
    });
  }
  const config = options.data.config ?? {};
  const files = await prepareCliRun(input, prior);
  const env = cliEnvironment(input, files);
  const model = modelFor('codex', input.agent.model)!;

  const command = input.agent.command ?? 'codex';
  const binary = resolveExecutable(command, env.PATH, input.root);
  if (binary === undefined) {
    const fix = `install Codex CLI with \`${installHint('codex')}\`, or set command: to the codex binary in the spec`;
    const reason = `${command} not found${command.includes('/') ? '' : ' on PATH'}: ${fix}`;
    return finishRun(input, files, {
      ...preflightResult('not_installed', reason, files, startedMs),
      failure: { kind: 'needs_human', code: 'not_installed', message: `${command} not found`, fix },
      model,
    });
  }
  const version = await checkCliVersion('codex', binary, env);
  if (!version.ok) return finishRun(input, files, { ...cliVersionResult(version, files, startedMs), model });
  const auth = await resolveCodexLogin({
    binary,
    config,
    env,
    worker: process.env,
    runHome: resolveInRoot(input.root, `${files.base}.codex-home`),
    cwd: input.root,
  });
  const codexHome = auth.stateDir!;
  env.CODEX_HOME = codexHome;
  const known = { login: auth.login, cliVersion: version.version, model };
  if (auth.problem !== null)
    return finishRun(input, files, { ...loginResult(auth.problem, files, startedMs), ...known, login: 'none' });

  // An adopted run is the same conversation still going: nothing to resume.
  const resumeId = prior === null && typeof previous?.sessionId === 'string' ? previous.sessionId : null;
  const baseline = resumeId ? (readRollout(codexHome, resumeId).totalUsage ?? ZERO_CODEX_TOKENS) : ZERO_CODEX_TOKENS;
  const lastMessageFile = resolveInRoot(input.root, `${files.base}.last-message.txt`);
  const args = codexArgs({
    root: input.root,
    model,
    sandbox: options.data.sandbox,
    effort: options.data.effort,
    config,
    lastMessageFile,
    prompt: resumeId ? resumePrompt(input.prompt) : input.prompt,
    resumeThreadId: resumeId,
  });

  const state = initialCodexState();
  const price = codexPrice(model, options.data.price);
  const meter = new CodexRunMeter(codexHome, baseline, price);
  const budget = new BudgetStop(input.budgetLeft);
  let launched;
  try {
    launched = await launchCli({
      input,
      files,
      binary,
      args,
      env,
      startedMs,
      durable,
      prior,
      graceMs: 1000,
      onEvent: (event) => applyCodexEvent(state, event),
      onTick: () => budget.check(meter.figures(meter.poll(state.threadId ?? resumeId))),
      stop: budget.signal,
      progress: () => {
        const mine = tokensSince(state.usage, baseline);
        return {
          events: state.events,
          lastEvent: state.lastEventType,
          sessionId: state.threadId ?? resumeId,
          tokensIn: mine.input,
          tokensOut: mine.output,
          reportedCostUsd: null,
        };
      },
    });
  } finally {
    meter.poll(state.threadId ?? resumeId);
    meter.close();
  }
  const outcome = codexOutcome(
    launchedResult(launched, files, input.root),
    state,
    tokensSince(state.usage, baseline),
    price,
    () => (state.threadId ? readRollout(codexHome, state.threadId).exhaustedResetAt : null),
  );
  return finishRun(input, files, {
    ...budgetStoppedResult(outcome, budget, meter.figures()),
    finalMessage: outcome.finalMessage ?? readLastMessage(lastMessageFile),
    ...known,
  });
}
