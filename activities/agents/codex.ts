import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { execa } from 'execa';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
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
  stateDirectory,
} from './cli-run.js';
import { installHint } from './cli-versions.js';
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
import type { RunAgentInput } from './run-agent.js';

/** The model passed when the spec names none: Codex must always be told one (docs/architecture.md#agent-clis). */
const DEFAULT_CODEX_MODEL = 'gpt-5-codex';

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
  // Plugins and analytics are the only traffic besides the model provider's.
  args.push('--disable', 'plugins', '--disable', 'remote_plugin', '-c', 'analytics.enabled=false');
  for (const [key, value] of Object.entries(input.config ?? {})) args.push('-c', `${key}=${value}`);
  if (input.effort) args.push('-c', `model_reasoning_effort="${input.effort}"`);
  args.push('-o', input.lastMessageFile);
  if (input.resumeThreadId) args.push('resume', input.resumeThreadId);
  args.push('--', input.prompt);
  return args;
}

const unquote = (value: string | undefined): string | undefined => value?.trim().replace(/^(["'])(.*)\1$/, '$2');

/** The variable holding Codex's API key: a custom provider's `env_key`, else CODEX_API_KEY. */
export function codexKeyVariable(config: Readonly<Record<string, string>>): {
  variable: string;
  provider: string | null;
} {
  const provider = unquote(config.model_provider);
  const envKey = provider && provider !== 'openai' ? unquote(config[`model_providers.${provider}.env_key`]) : undefined;
  return envKey ? { variable: envKey, provider: provider ?? null } : { variable: 'CODEX_API_KEY', provider: null };
}

/** Codex without credentials does not fail: it waits for the network forever. So check first. */
async function missingCodexAuth(
  binary: string,
  config: Readonly<Record<string, string>>,
  env: Record<string, string>,
  root: string,
): Promise<string | null> {
  const { variable, provider } = codexKeyVariable(config);
  if (env[variable]) return null;
  const allow = `set ${variable} in the worker's environment and allow it in the spec (env: [${variable}])`;
  if (provider !== null)
    return `${variable} is not set for the agent: model provider ${provider} reads its API key from it; ${allow}`;
  const status = await execa(binary, ['login', 'status'], {
    env,
    extendEnv: false,
    cwd: root,
    stdin: 'ignore',
    reject: false,
    timeout: 30_000,
  });
  if (status.exitCode === 0) return null;
  return `no Codex credentials: CODEX_API_KEY is not set for the agent and \`codex login status\` finds no login in CODEX_HOME=${env.CODEX_HOME}; ${allow}, or log in with \`codex login\` and allow CODEX_HOME`;
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
  resetFromRollout: () => string | null,
): AgentRunResult {
  const result: AgentRunResult = {
    ...base,
    usage: {
      tokensIn: mine.input,
      tokensCached: mine.cached,
      tokensOut: mine.output,
      costUsd: 0,
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
 * The Codex adapter: `codex exec --json` in the loop root with its own CODEX_HOME, stdin closed,
 * heartbeats from the event stream, the tree killed on cancel or timeout. A retry resumes the
 * previous attempt's thread and counts only this process's tokens.
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
  const codexHome = await stateDirectory(input, files, 'CODEX_HOME', 'codex-home', env);
  env.CODEX_HOME = codexHome;

  const command = input.agent.command ?? 'codex';
  const binary = resolveExecutable(command, env.PATH, input.root);
  if (binary === undefined) {
    const reason = `${command} not found${command.includes('/') ? '' : ' on PATH'}: install Codex CLI with \`${installHint('codex')}\`, or set command: to the codex binary in the spec`;
    return finishRun(input, files, preflightResult('not_installed', reason, files, startedMs));
  }
  const authProblem = await missingCodexAuth(binary, config, env, input.root);
  if (authProblem !== null)
    return finishRun(input, files, preflightResult('auth_missing', authProblem, files, startedMs));

  // An adopted run is the same conversation still going: nothing to resume.
  const resumeId = prior === null && typeof previous?.sessionId === 'string' ? previous.sessionId : null;
  const baseline = resumeId ? (readRollout(codexHome, resumeId).totalUsage ?? ZERO_CODEX_TOKENS) : ZERO_CODEX_TOKENS;
  const lastMessageFile = resolveInRoot(input.root, `${files.base}.last-message.txt`);
  const args = codexArgs({
    root: input.root,
    model: input.agent.model ?? DEFAULT_CODEX_MODEL,
    sandbox: options.data.sandbox,
    effort: options.data.effort,
    config,
    lastMessageFile,
    prompt: resumeId ? resumePrompt(input.prompt) : input.prompt,
    resumeThreadId: resumeId,
  });

  const state = initialCodexState();
  const launched = await launchCli({
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
  const outcome = codexOutcome(
    launchedResult(launched, files, input.root),
    state,
    tokensSince(state.usage, baseline),
    () => (state.threadId ? readRollout(codexHome, state.threadId).exhaustedResetAt : null),
  );
  return finishRun(input, files, {
    ...outcome,
    finalMessage: outcome.finalMessage ?? readLastMessage(lastMessageFile),
  });
}
