/**
 * `codex exec --json` event stream (docs/architecture.md#agent-cli-events): thread id, final message,
 * usage, failures, and what a failure means (docs/architecture.md#agent-failures).
 */

import type { AgentFailure } from '../../protocol/schemas/agent-result.js';
import { cliFixes, failure, oneLine, SANDBOX_DENIAL, type ExitFacts } from './failures.js';
import { num, obj, str } from './loose-json.js';

/** Codex's token figures; `input` includes `cached` (Responses API semantics). */
export interface CodexTokens {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

export const ZERO_CODEX_TOKENS: CodexTokens = { input: 0, cached: 0, output: 0, reasoning: 0 };

export interface CodexStreamState {
  threadId: string | null;
  /** Text of the last completed `agent_message` item. */
  finalMessage: string | null;
  /** Sum of the `turn.completed` usages of this process (cumulative for the thread after a resume). */
  usage: CodexTokens;
  turnsCompleted: number;
  /** `turn.failed.error.message`, the turn's fatal error. */
  turnFailure: string | null;
  /** The last top-level `error` line (retries repeat the fatal message there too). */
  lastError: string | null;
  /** When (epoch ms) Codex began printing `Reconnecting... waiting for network` without anything else since. */
  waitingForNetworkSince: number | null;
  /** The first tool command the sandbox itself refused to start (`bwrap: …`), with its message. */
  sandboxRefusal: string | null;
  /** Tool commands the sandbox denied (a write under `-s read-only`), one line each. */
  denials: string[];
  events: number;
  lastEventType: string | null;
}

/** Codex's usage object (`turn.completed.usage`, rollout `total_token_usage`) as CodexTokens. */
export function codexTokens(usage: unknown): CodexTokens {
  const u = obj(usage);
  return {
    input: num(u.input_tokens),
    cached: num(u.cached_input_tokens),
    output: num(u.output_tokens),
    reasoning: num(u.reasoning_output_tokens),
  };
}

const addTokens = (a: CodexTokens, b: CodexTokens): CodexTokens => ({
  input: a.input + b.input,
  cached: a.cached + b.cached,
  output: a.output + b.output,
  reasoning: a.reasoning + b.reasoning,
});

/**
 * This process's share of `reported`: after a resume Codex may report the thread's total, which
 * then includes `baseline` (the thread's total before this process); otherwise it is all ours.
 */
export function tokensSince(reported: CodexTokens, baseline: CodexTokens): CodexTokens {
  const cumulative =
    baseline.input + baseline.output > 0 && reported.input >= baseline.input && reported.output >= baseline.output;
  if (!cumulative) return reported;
  return {
    input: reported.input - baseline.input,
    cached: Math.max(0, reported.cached - baseline.cached),
    output: reported.output - baseline.output,
    reasoning: Math.max(0, reported.reasoning - baseline.reasoning),
  };
}

export function initialCodexState(): CodexStreamState {
  return {
    threadId: null,
    finalMessage: null,
    usage: ZERO_CODEX_TOKENS,
    turnsCompleted: 0,
    turnFailure: null,
    lastError: null,
    waitingForNetworkSince: null,
    sandboxRefusal: null,
    denials: [],
    events: 0,
    lastEventType: null,
  };
}

const WAITING_FOR_NETWORK = /waiting for network/i;
/** Bubblewrap failing to set up the sandbox: the command never ran (user namespaces refused, an old bwrap). */
const SANDBOX_SETUP = /^bwrap: .*/m;

function foldCommand(state: CodexStreamState, item: Record<string, unknown>): void {
  const output = str(item.aggregated_output) ?? '';
  if (item.exit_code === 0 || output === '') return;
  const command = oneLine(str(item.command) ?? '', 200);
  const setup = SANDBOX_SETUP.exec(output);
  if (setup) state.sandboxRefusal ??= `${command}: ${setup[0]}`;
  else if (SANDBOX_DENIAL.test(output))
    state.denials.push(`exec_command: ${command}: ${SANDBOX_DENIAL.exec(output)![0]}`);
}

/** Folds one parsed JSONL event into the state (unknown event types only count); `now` dates network waits. */
export function applyCodexEvent(state: CodexStreamState, event: Record<string, unknown>, now = Date.now()): void {
  const type = str(event.type);
  state.events += 1;
  state.lastEventType = type;
  if (type !== 'error' || !WAITING_FOR_NETWORK.test(str(event.message) ?? '')) state.waitingForNetworkSince = null;
  switch (type) {
    case 'thread.started':
      state.threadId = str(event.thread_id) ?? state.threadId;
      break;
    case 'item.completed': {
      const item = obj(event.item);
      if (item.type === 'agent_message' && typeof item.text === 'string') state.finalMessage = item.text;
      if (item.type === 'command_execution') foldCommand(state, item);
      break;
    }
    case 'turn.completed':
      state.usage = addTokens(state.usage, codexTokens(event.usage));
      state.turnsCompleted += 1;
      break;
    case 'turn.failed':
      state.turnFailure = str(obj(event.error).message) ?? 'turn failed';
      break;
    case 'error':
      state.lastError = str(event.message);
      if (state.lastError !== null && WAITING_FOR_NETWORK.test(state.lastError)) state.waitingForNetworkSince ??= now;
      break;
  }
}

const FIX = cliFixes('codex');

/**
 * What a fatal Codex message means (docs/architecture.md#agent-failures). The patterns are read off
 * the pinned CLI's real messages (test/fixtures/cli-messages/codex-*): Codex rewrites most API
 * errors into its own words, so the API's codes rarely reach the stream.
 */
export function classifyCodexMessage(message: string): AgentFailure {
  const m = message;
  if (/hit your usage limit/i.test(m)) return failure('usage_limit', 'usage_limit', m);
  if (/quota exceeded|insufficient_quota/i.test(m))
    return failure(
      'needs_human',
      'insufficient_quota',
      m,
      "the API key's organization is out of quota: add credit or raise its spending limit in the provider's billing settings (or run Codex on a ChatGPT plan login: `codex login`)",
    );
  if (/last status: 429|429 Too Many Requests/.test(m)) return failure('transient', 'rate_limited', m);
  if (/\b40[13] (?:Unauthorized|Forbidden)\b|invalid_api_key|Incorrect API key/i.test(m))
    return failure(
      'needs_human',
      'invalid_credentials',
      m,
      "the model provider refused the credentials: set a valid API key in the worker's environment, or log in again with `codex login` if the login expired",
    );
  if (/Missing environment variable/.test(m))
    return failure(
      'needs_human',
      'not_logged_in',
      m,
      "set the variable named in the message in the worker's environment and allow it in the spec (env: [NAME])",
    );
  if (/does not exist or you do not have access|model_not_found|model is not supported/i.test(m))
    return failure('needs_human', 'model_not_found', m, FIX.modelNotFound);
  if (/out of room in the model's context window|context_length_exceeded/i.test(m))
    return failure('agent', 'context_full', m);
  if (/at capacity|overloaded|\b(?:503|529)\b/i.test(m)) return failure('transient', 'overloaded', m);
  if (/high demand|\b5\d\d\b|server_error|internal server error/i.test(m))
    return failure('transient', 'server_error', m);
  if (/waiting for network|error sending request|connection (?:failed|refused|reset)|ECONNRESET|dns error/i.test(m))
    return failure('transient', 'network', m);
  if (/stream disconnected|stream closed|idle timeout waiting for SSE/i.test(m))
    return failure('transient', 'stream_cut', m);
  return failure('agent', 'turn_failed', m);
}

/** The first `error: …` line clap prints for arguments it refuses (exit 2). */
const argumentError = (stderr: string): string | undefined => /^error: .*$/m.exec(stderr)?.[0];

/**
 * The failure of a Codex process that exited (or that the adapter stopped while it waited for the
 * network), from its events and exit; null when the run did its task.
 */
export function codexFailure(state: CodexStreamState, exit: ExitFacts): AgentFailure | null {
  const badArguments = exit.exitCode === 2 || state.events === 0 ? argumentError(exit.stderr) : undefined;
  if (badArguments !== undefined) return failure('needs_human', 'cli_arguments', badArguments, FIX.cliArguments);
  const message = state.turnFailure ?? (exit.exitCode !== 0 ? state.lastError : null);
  if (message !== null) return classifyCodexMessage(message);
  if (state.sandboxRefusal !== null)
    return failure(
      'needs_human',
      'sandbox_refused',
      `the sandbox could not start a command: ${state.sandboxRefusal}`,
      'Codex sandboxes commands with bubblewrap, which needs unprivileged user namespaces: allow them on this machine (kernel.unprivileged_userns_clone=1, or the AppArmor userns restriction off), or set sandbox: danger-full-access for an agent already isolated by a container or VM',
    );
  if (exit.exitCode === 0 && state.turnsCompleted === 0)
    return failure('agent', 'no_turn', 'exited 0 without a turn.completed event');
  if (exit.exitCode !== 0)
    return failure(
      'agent',
      'exit',
      `exited with ${exit.exitCode === null ? `signal ${exit.signal ?? '?'}` : `code ${exit.exitCode}`}`,
    );
  return null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The reset time in a usage-limit message, read as UTC (the adapter runs Codex with TZ=UTC):
 * `try again at 7:16 PM.` (today, or tomorrow if already past) or `try again at Nov 25th, 2026 12:14 AM.`
 */
export function parseCodexResetTime(message: string, now: Date): string | null {
  const m = /try again at (?:([A-Z][a-z]{2}) (\d{1,2})(?:st|nd|rd|th)?, (\d{4}) )?(\d{1,2}):(\d{2}) ?([AP]M)/.exec(
    message,
  );
  if (!m) return null;
  const [, mon, day, year, hh, mm, ampm] = m;
  const hour = (Number(hh) % 12) + (ampm === 'PM' ? 12 : 0);
  if (mon !== undefined) {
    const month = MONTHS.indexOf(mon);
    if (month < 0) return null;
    return new Date(Date.UTC(Number(year), month, Number(day), hour, Number(mm))).toISOString();
  }
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, Number(mm)));
  if (at.getTime() < now.getTime() - 60_000) at.setUTCDate(at.getUTCDate() + 1);
  return at.toISOString();
}
