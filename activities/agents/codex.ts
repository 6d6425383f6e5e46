import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { codexCostUsd, codexPrice, modelFor, type TokenPrice } from '../../protocol/models.js';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
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
import { checkCliVersion, installHint } from './cli-versions.js';
import { resolveExecutable } from './executable.js';
import { selectImages } from './images.js';
import { codexKeyVariable, resolveCodexLogin } from './logins.js';
import type { RunAgentInput } from './run-agent.js';
import { agentOptions, budgetStoppedResult, cliVersionResult, limitReachedResult, loginResult } from './run-checks.js';
import { BudgetStop, CodexRunMeter, leftAfter } from './run-meter.js';
import { carryThread } from './thread-store.js';
import { unattendedNote } from './unattended-note.js';

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
  // Plugins, apps (ChatGPT connectors, reached under a ChatGPT login) and analytics are the only
  // traffic besides the model provider's.
  args.push('--disable', 'plugins', '--disable', 'remote_plugin', '--disable', 'apps', '-c', 'analytics.enabled=false');
  for (const [key, value] of Object.entries(input.config ?? {})) args.push('-c', `${key}=${value}`);
  if (input.effort) args.push('-c', `model_reasoning_effort="${input.effort}"`);
  args.push('-o', input.lastMessageFile);
  if (input.resumeThreadId) args.push('resume', input.resumeThreadId);
  // After `resume`, `--image` attaches to the prompt sent into the resumed thread.
  for (const image of input.images ?? []) args.push('--image', image);
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

/** How long Codex may print `waiting for network` before the run is stopped as a transient failure. */
export const NETWORK_WAIT_MS = 5 * 60_000;

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
    case 'usage_limit':
    case 'rate_limited':
      return limitReachedResult(
        failed,
        'Codex',
        classified.code === 'usage_limit'
          ? (resetFromRollout() ?? parseCodexResetTime(classified.message, new Date()))
          : null,
      );
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
 * The Codex adapter: `codex exec --json` in the loop root with its own CODEX_HOME, after its version
 * and credentials are checked (a key, or a link to the worker user's login: logins.ts), stdin
 * closed, heartbeats from the event stream, metered from its rollout and stopped at a token or cost
 * budget, the tree killed on cancel, timeout or stall. A retry resumes the
 * previous attempt's thread and counts only this process's tokens; a run given `resumeThreadId`
 * continues that thread. Every run gets the unattended note before its prompt, images attached,
 * and one nudge in the same thread if it stops without its files. A reviewer runs `-s read-only`
 * unless the spec says otherwise; its final message is then its review.
 */
export async function runCodexAgent(input: RunAgentInput): Promise<AgentRunResult> {
  const startedMs = Date.now();
  const previous = previousHeartbeat();
  const { durable, prior } = await priorAgentRun(input, 1000);
  const options = agentOptions(input, 'codex', CodexOptionsSchema);
  const config = options.config ?? {};
  const sandbox = options.sandbox ?? (input.role === 'REVIEWER' ? 'read-only' : 'workspace-write');
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
  const model = modelFor('codex', input.agent.model)!;

  const command = input.agent.command ?? 'codex';
  const binary = resolveExecutable(command, env.PATH, input.root);
  if (binary === undefined) {
    const reason = `${command} not found${command.includes('/') ? '' : ' on PATH'}: install Codex CLI with \`${installHint('codex')}\`, or set command: to the codex binary in the spec`;
    return finishRun(input, files, {
      ...preflightResult('not_installed', reason, files, startedMs, cliFixes('codex').notInstalled),
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
  if (thread !== null) carryThread('codex', input.root, codexHome, thread.id);

  const lastMessageFile = resolveInRoot(input.root, `${files.base}.last-message.txt`);
  const networkWaitMs = Math.min(NETWORK_WAIT_MS, idleTimeoutOf(input) ?? NETWORK_WAIT_MS);
  const price = codexPrice(model, options.price);
  // What the run may still spend: a nudge after a first launch has that launch's usage taken off.
  let budgetLeft = input.budgetLeft;
  let budget = new BudgetStop(budgetLeft);
  const launchOnce = async (plan: LaunchPlan): Promise<AgentRunResult> => {
    const baseline = plan.resumeId
      ? (readRollout(codexHome, plan.resumeId).totalUsage ?? ZERO_CODEX_TOKENS)
      : ZERO_CODEX_TOKENS;
    const args = codexArgs({
      root: input.root,
      model,
      sandbox,
      effort: options.effort,
      config,
      lastMessageFile,
      prompt: plan.nudge ? plan.prompt : `${note}\n\n${plan.prompt}`,
      resumeThreadId: plan.resumeId,
      images: plan.nudge ? [] : images.attached.map((p) => resolveInRoot(input.root, p)),
    });
    const state = initialCodexState();
    const launchedAt = Date.now();
    budget = new BudgetStop(budgetLeft);
    const meter = new CodexRunMeter(codexHome, baseline, price);
    let launched;
    try {
      launched = await launchCli({
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
        onTick: () => budget.check(meter.figures(meter.poll(state.threadId ?? plan.resumeId))),
        stop: budget.signal,
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
    } finally {
      meter.poll(state.threadId ?? plan.resumeId);
      meter.close();
    }
    const rollout = state.threadId ? readRollout(codexHome, state.threadId, launchedAt) : null;
    // The rollout records every refusal with the command the model gave; the events not always
    // (none for a command run in a read-only sandbox), and with Codex's shell wrapper around it.
    if (rollout !== null) state.denials = rollout.denials;
    const outcome = codexOutcome(
      launchedResult(launched, files, input.root),
      state,
      tokensSince(state.usage, baseline),
      price,
      () => rollout?.exhaustedResetAt ?? null,
    );
    const metered = budgetStoppedResult(outcome, budget, meter.figures());
    budgetLeft = leftAfter(budgetLeft, metered.usage);
    return {
      ...metered,
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
    ...known,
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
