import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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
  launchWithNudge,
  mustWrite,
  missingFiles,
  idleTimeoutOf,
  type LaunchPlan,
  preflightResult,
  prepareCliRun,
  previousHeartbeat,
  priorAgentRun,
  resumePrompt,
  stateDirectory,
  threadToResume,
} from './cli-run.js';
import {
  applyCodexEvent,
  codexFailure,
  initialCodexState,
  parseCodexResetTime,
  tokensSince,
  ZERO_CODEX_TOKENS,
  type CodexStreamState,
  type CodexTokens,
} from './codex-events.js';
import { readRollout } from './codex-rollout.js';
import { cliFixes } from './failures.js';
import { installHint } from './cli-versions.js';
import { resolveExecutable } from './executable.js';
import { selectImages } from './images.js';
import type { RunAgentInput } from './run-agent.js';
import { carryThread } from './thread-store.js';
import { unattendedNote } from './unattended-note.js';

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
  /** Absolute paths of images attached to the prompt (`--image`). */
  images?: readonly string[];
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
  // After `resume`, `--image` attaches to the prompt sent into the resumed thread.
  for (const image of input.images ?? []) args.push('--image', image);
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

/** How long Codex may print `waiting for network` before the run is stopped as a transient failure. */
export const NETWORK_WAIT_MS = 5 * 60_000;

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
    ...(state.denials.length > 0 ? { permissionDenials: state.denials } : {}),
  };
  if (base.status !== 'exited') return result;
  const classified = codexFailure(state, {
    exitCode: base.exitCode,
    signal: base.signal,
    stderr: base.stderrTail,
  });
  if (classified === null) return result;
  const failed = { ...result, failure: classified };
  switch (classified.code) {
    case 'usage_limit': {
      const resetAt = resetFromRollout() ?? parseCodexResetTime(classified.message, new Date());
      return {
        ...failed,
        status: 'usage_limit',
        resetAt,
        reason: `usage limit reached (resets ${resetAt ?? 'at an unknown time'}): ${classified.message}`,
      };
    }
    case 'rate_limited':
      // Before failure classes the workflow backed off on usage_limit; the status keeps that.
      return {
        ...failed,
        status: 'usage_limit',
        reason: `rate limited after Codex's own retries: ${classified.message}`,
      };
    case 'insufficient_quota':
      return {
        ...failed,
        reason: `quota exceeded (insufficient_quota): check the plan and billing of the API key: ${classified.message}`,
      };
    case 'invalid_credentials':
    case 'not_logged_in':
      return {
        ...failed,
        status: 'auth_missing',
        reason: `the model provider refused the credentials: ${classified.message}`,
      };
    case 'no_turn':
      return { ...failed, reason: classified.message };
    default:
      return {
        ...failed,
        reason: base.exitCode === null ? classified.message : `turn failed: ${classified.message}`,
      };
  }
}

/**
 * The Codex adapter: `codex exec --json` in the loop root with its own CODEX_HOME, stdin closed,
 * heartbeats from the event stream, the tree killed on cancel, timeout or stall. A retry resumes the
 * previous attempt's thread and counts only this process's tokens; a run given `resumeThreadId`
 * continues that thread. Every run gets the unattended note before its prompt, images attached,
 * and one nudge in the same thread if it stops without its files. A reviewer runs `-s read-only`
 * unless the spec says otherwise; its final message is then its review.
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
  const sandbox = options.data.sandbox ?? (input.role === 'REVIEWER' ? 'read-only' : 'workspace-write');
  const finalMessageIsOutput = sandbox === 'read-only';
  const images = selectImages(input.root, input.images ?? []);
  const note = unattendedNote({
    agent: input.agent.token,
    role: input.role,
    session: input.session,
    mustWrite: mustWrite(input),
    images: { selection: images, attached: true, root: input.root },
    finalMessageIsOutput,
  });
  const thread = threadToResume(input, previous, prior);
  const firstPrompt = thread?.retry ? resumePrompt(input.prompt) : input.prompt;
  const files = await prepareCliRun(input, prior, `${note}\n\n${firstPrompt}`);
  const env = cliEnvironment(input, files);
  const codexHome = await stateDirectory(input, files, 'CODEX_HOME', 'codex-home', env);
  env.CODEX_HOME = codexHome;

  const command = input.agent.command ?? 'codex';
  const binary = resolveExecutable(command, env.PATH, input.root);
  if (binary === undefined) {
    const reason = `${command} not found${command.includes('/') ? '' : ' on PATH'}: install Codex CLI with \`${installHint('codex')}\`, or set command: to the codex binary in the spec`;
    return finishRun(
      input,
      files,
      preflightResult('not_installed', reason, files, startedMs, cliFixes('codex').notInstalled),
    );
  }
  const authProblem = await missingCodexAuth(binary, config, env, input.root);
  if (authProblem !== null)
    return finishRun(
      input,
      files,
      preflightResult(
        'auth_missing',
        authProblem,
        files,
        startedMs,
        `set ${codexKeyVariable(config).variable} in the worker's environment and allow it in the spec, or log in with \`codex login\` as the worker's user`,
      ),
    );
  if (thread !== null) carryThread('codex', input.root, codexHome, thread.id);

  const lastMessageFile = resolveInRoot(input.root, `${files.base}.last-message.txt`);
  const networkWaitMs = Math.min(NETWORK_WAIT_MS, idleTimeoutOf(input) ?? NETWORK_WAIT_MS);
  const launchOnce = async (plan: LaunchPlan): Promise<AgentRunResult> => {
    const baseline = plan.resumeId
      ? (readRollout(codexHome, plan.resumeId).totalUsage ?? ZERO_CODEX_TOKENS)
      : ZERO_CODEX_TOKENS;
    const args = codexArgs({
      root: input.root,
      model: input.agent.model ?? DEFAULT_CODEX_MODEL,
      sandbox,
      effort: options.data.effort,
      config,
      lastMessageFile,
      prompt: plan.nudge ? plan.prompt : `${note}\n\n${plan.prompt}`,
      resumeThreadId: plan.resumeId,
      images: plan.nudge ? [] : images.attached.map((p) => resolveInRoot(input.root, p)),
    });
    const state = initialCodexState();
    const launchedAt = Date.now();
    const launched = await launchCli({
      input,
      files,
      binary,
      args,
      env,
      startedMs: launchedAt,
      stateDirs: [codexHome],
      what: plan.what,
      durable,
      prior: plan.nudge ? null : prior,
      graceMs: 1000,
      onEvent: (event) => applyCodexEvent(state, event),
      // Codex without a network waits for it forever, printing; past the wait it is a transient failure.
      stopWhen: () =>
        state.waitingForNetworkSince !== null && Date.now() - state.waitingForNetworkSince >= networkWaitMs,
      progress: () => {
        const mine = tokensSince(state.usage, baseline);
        return {
          events: state.events,
          lastEvent: state.lastEventType,
          sessionId: state.threadId ?? plan.resumeId,
          tokensIn: mine.input,
          tokensOut: mine.output,
          reportedCostUsd: null,
        };
      },
    });
    const rollout = state.threadId ? readRollout(codexHome, state.threadId, launchedAt) : null;
    // The rollout records every refusal with the command the model gave; the events not always
    // (none for a command run in a read-only sandbox), and with Codex's shell wrapper around it.
    if (rollout !== null) state.denials = rollout.denials;
    const outcome = codexOutcome(
      launchedResult(launched, files, input.root),
      state,
      tokensSince(state.usage, baseline),
      () => rollout?.exhaustedResetAt ?? null,
    );
    return {
      ...outcome,
      sessionId: outcome.sessionId ?? plan.resumeId,
      finalMessage: outcome.finalMessage ?? readLastMessage(lastMessageFile),
    };
  };
  const first: LaunchPlan = {
    prompt: firstPrompt,
    resumeId: thread?.id ?? null,
    what: thread ? `resumed thread ${thread.id}` : 'run',
  };
  const result = await launchWithNudge(input, files, first, launchOnce, {
    // A read-only reviewer writes nothing itself: its final message is its output.
    beforeNudge: finalMessageIsOutput ? (r) => writeFinalMessage(input, r) : undefined,
  });
  if (finalMessageIsOutput) await writeFinalMessage(input, result);
  return finishRun(input, files, {
    ...result,
    ...(images.attached.length + images.omitted.length > 0 ? { images } : {}),
  });
}

/** A read-only agent's final message into its output, when the run ended well and the output is missing. */
async function writeFinalMessage(input: RunAgentInput, result: AgentRunResult): Promise<void> {
  if (result.status !== 'exited' || result.exitCode !== 0 || result.failure || !result.finalMessage) return;
  if (!missingFiles({ ...input, mustWrite: [input.output] }).includes(input.output)) return;
  const output = resolveInRoot(input.root, input.output);
  await mkdir(dirname(output), { recursive: true });
  await writeFile(output, `${result.finalMessage.trimEnd()}\n`);
}
