/**
 * `claude -p --output-format stream-json --verbose` event stream (docs/architecture.md#agent-clis): session id,
 * skills, the result (final text, usage, cost), API errors and rate-limit events. Parsed loosely:
 * new fields appear with most releases.
 */

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
  } | null;
  /** `error` of the last synthetic assistant message (`rate_limit`, `authentication_failed`, …). */
  assistantError: string | null;
  /** The last `rate_limit_event` whose status was `rejected`, reset as epoch seconds. */
  rejectedResetsAt: number | null;
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
    events: 0,
    lastEventType: null,
  };
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
      };
      break;
  }
}

export type ClaudeFailureKind = 'usage_limit' | 'not_logged_in' | 'credentials' | 'other';

/** What an `is_error` result means (docs/architecture.md#agent-cli-limits). */
export function classifyClaudeFailure(state: ClaudeStreamState): ClaudeFailureKind {
  const text = state.result?.text ?? '';
  if (state.result?.apiErrorStatus === 429 || state.assistantError === 'rate_limit' || state.rejectedResetsAt !== null)
    return 'usage_limit';
  if (/Not logged in/.test(text)) return 'not_logged_in';
  if (state.result?.apiErrorStatus === 401 || state.assistantError === 'authentication_failed') return 'credentials';
  return 'other';
}
