/**
 * `claude -p --output-format stream-json --verbose` event stream (docs/architecture.md#agent-clis): session id,
 * skills, the result (final text, usage, cost), API errors and rate-limit events. Parsed loosely:
 * new fields appear with most releases.
 */

import type { AgentFailure } from '../../protocol/schemas/agent-result.js';
import { cliFixes, failure, oneLine, type ExitFacts } from './failures.js';
import { num, obj, str } from './loose-json.js';

/** Claude's token figures; `input` excludes the cached ones (Messages API semantics). */
export interface ClaudeTokens {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
}

export interface ClaudeStreamState {
  sessionId: string | null;
  /** Skills Claude loaded (`system/init.skills`). */
  skills: string[];
  /** The last `result` line, if any: the run's verdict. */
  result: {
    subtype: string | null;
    isError: boolean;
    text: string | null;
    usage: ClaudeTokens;
    /** Cumulative over `--resume`: includes earlier processes of the same session. */
    totalCostUsd: number;
    turns: number;
    apiErrorStatus: number | null;
    /** `completed`, `api_error`, `prompt_too_long`, `max_turns`… */
    terminalReason: string | null;
    /** Tool uses the permission rules refused, one line each (`Bash: rm -rf x`). */
    permissionDenials: string[];
    /** `errors` of an error subtype (`Reached maximum number of turns (1)`). */
    errors: string[];
  } | null;
  /** `error` of the last synthetic assistant message (`rate_limit`, `authentication_failed`, …). */
  assistantError: string | null;
  /** The last `rate_limit_event` whose status was `rejected`, reset as epoch seconds. */
  rejectedResetsAt: number | null;
  /** `system/api_retry` lines: Claude Code's own retries of failed API calls. */
  apiRetries: number;
  events: number;
  lastEventType: string | null;
}

function claudeTokens(usage: unknown): ClaudeTokens {
  const u = obj(usage);
  return {
    input: num(u.input_tokens),
    cacheRead: num(u.cache_read_input_tokens),
    cacheWrite: num(u.cache_creation_input_tokens),
    output: num(u.output_tokens),
  };
}

export function initialClaudeState(): ClaudeStreamState {
  return {
    sessionId: null,
    skills: [],
    result: null,
    assistantError: null,
    rejectedResetsAt: null,
    apiRetries: 0,
    events: 0,
    lastEventType: null,
  };
}

/** One line per refused tool use: the tool and what it was asked to do. */
function denialLine(denial: unknown): string {
  const d = obj(denial);
  const input = obj(d.tool_input);
  const what = str(input.command) ?? str(input.file_path) ?? str(input.path) ?? str(input.pattern) ?? str(input.url);
  const tool = str(d.tool_name) ?? 'tool';
  return oneLine(what === null ? tool : `${tool}: ${what}`, 300);
}

export function applyClaudeEvent(state: ClaudeStreamState, event: Record<string, unknown>): void {
  const type = str(event.type);
  state.events += 1;
  state.lastEventType = type === 'system' && typeof event.subtype === 'string' ? `system/${event.subtype}` : type;
  state.sessionId = str(event.session_id) ?? state.sessionId;
  switch (type) {
    case 'system':
      if (event.subtype === 'init' && Array.isArray(event.skills))
        state.skills = event.skills.filter((s): s is string => typeof s === 'string');
      if (event.subtype === 'api_retry') state.apiRetries += 1;
      break;
    case 'assistant':
      if (typeof event.error === 'string') state.assistantError = event.error;
      break;
    case 'rate_limit_event': {
      const info = obj(event.rate_limit_info);
      if (info.status === 'rejected') state.rejectedResetsAt = typeof info.resetsAt === 'number' ? info.resetsAt : null;
      break;
    }
    case 'result':
      state.result = {
        subtype: str(event.subtype),
        isError: event.is_error === true,
        text: str(event.result),
        usage: claudeTokens(event.usage),
        totalCostUsd: num(event.total_cost_usd),
        turns: num(event.num_turns),
        apiErrorStatus: typeof event.api_error_status === 'number' ? event.api_error_status : null,
        terminalReason: str(event.terminal_reason),
        permissionDenials: Array.isArray(event.permission_denials) ? event.permission_denials.map(denialLine) : [],
        errors: Array.isArray(event.errors) ? event.errors.filter((e): e is string => typeof e === 'string') : [],
      };
      break;
  }
}

const FIX = cliFixes('claude');

/** Commander's refusals of the argv (Claude Code exits 1 before any event). */
const ARGUMENT_ERROR =
  /^error: (?:unknown option|option .* argument missing|missing required argument|too many arguments|option .* argument .* is invalid).*$/m;

/**
 * The failure of a Claude Code process that exited, from its events and exit; null when the run
 * did its task (docs/architecture.md#agent-failures). API failures end in a `result` with
 * `is_error: true`, the synthetic assistant message's `error` (`rate_limit`,
 * `authentication_failed`, `billing_error`, `model_not_found`, `server_error`, …) and
 * `api_error_status`; the patterns are read off the pinned CLI's real messages
 * (test/fixtures/cli-messages/claude-*).
 */
export function claudeFailure(state: ClaudeStreamState, exit: ExitFacts): AgentFailure | null {
  const r = state.result;
  if (r === null) {
    const badArguments = ARGUMENT_ERROR.exec(exit.stderr)?.[0];
    if (badArguments !== undefined) return failure('needs_human', 'cli_arguments', badArguments, FIX.cliArguments);
    return failure(
      'agent',
      'no_result',
      `${exit.exitCode === null ? `ended by signal ${exit.signal ?? '?'}` : `exited with code ${exit.exitCode}`} without a result line`,
    );
  }
  if (!r.isError) return null;
  const text = r.text ?? r.errors[0] ?? r.subtype ?? 'error';
  const status = r.apiErrorStatus;
  const kind = state.assistantError;
  if (state.rejectedResetsAt !== null || (status === 429 && /hit your .*limit/i.test(text)))
    return failure('usage_limit', 'usage_limit', text);
  if (status === 429 || kind === 'rate_limit') return failure('transient', 'rate_limited', text);
  if (/Not logged in/.test(text))
    return failure(
      'needs_human',
      'not_logged_in',
      text,
      "log in as the worker's user with `claude` (/login), or set ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or CLAUDE_CODE_OAUTH_TOKEN in the worker's environment and allow it in the spec (env: [ANTHROPIC_API_KEY])",
    );
  if (kind === 'billing_error' || /credit balance is too low/i.test(text))
    return failure(
      'needs_human',
      'insufficient_quota',
      text,
      "the API key's organization has no credit left: add credit in the provider's billing settings, or use a Claude plan login",
    );
  if (kind === 'authentication_failed' || status === 401 || status === 403)
    return failure(
      'needs_human',
      'invalid_credentials',
      text,
      "the API refused the credentials: set a valid key or token in the worker's environment, or log in again with `claude` if the login expired",
    );
  if (kind === 'model_not_found' || status === 404)
    return failure('needs_human', 'model_not_found', text, FIX.modelNotFound);
  if (r.terminalReason === 'prompt_too_long' || /prompt is too long/i.test(text))
    return failure('agent', 'context_full', text);
  if (r.subtype === 'error_max_turns' || r.terminalReason === 'max_turns') return failure('agent', 'max_turns', text);
  if (status === 529 || /\boverloaded\b/i.test(text)) return failure('transient', 'overloaded', text);
  if ((status !== null && status >= 500) || (kind === 'server_error' && status !== null))
    return failure('transient', 'server_error', text);
  if (/connection to the API was lost|stream/i.test(text)) return failure('transient', 'stream_cut', text);
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|connection (?:refused|dropped)|socket hang up/i.test(text))
    return failure('transient', 'network', text);
  if (r.terminalReason === 'api_error') return failure('transient', 'api_error', text);
  return failure('agent', r.subtype ?? 'error', text);
}
