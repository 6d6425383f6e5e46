/**
 * `codex exec --json` event stream (docs/architecture.md#agent-cli-events): thread id, final message,
 * usage, failures, and what a failure means (usage limit, quota, rate limit, credentials).
 */

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
    events: 0,
    lastEventType: null,
  };
}

/** Folds one parsed JSONL event into the state (unknown event types only count). */
export function applyCodexEvent(state: CodexStreamState, event: Record<string, unknown>): void {
  const type = str(event.type);
  state.events += 1;
  state.lastEventType = type;
  switch (type) {
    case 'thread.started':
      state.threadId = str(event.thread_id) ?? state.threadId;
      break;
    case 'item.completed': {
      const item = obj(event.item);
      if (item.type === 'agent_message' && typeof item.text === 'string') state.finalMessage = item.text;
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
      break;
  }
}

export type CodexFailureKind = 'usage_limit' | 'quota' | 'rate_limit' | 'credentials' | 'other';

/** What a fatal Codex message means (docs/architecture.md#agent-cli-limits). */
export function classifyCodexFailure(message: string): CodexFailureKind {
  if (/hit your usage limit/i.test(message)) return 'usage_limit';
  if (/quota exceeded/i.test(message)) return 'quota';
  if (/last status: 429|429 Too Many Requests/.test(message)) return 'rate_limit';
  if (/\b401 Unauthorized\b|Missing environment variable/.test(message)) return 'credentials';
  return 'other';
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
