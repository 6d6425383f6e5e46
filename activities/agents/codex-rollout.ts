import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codexTokens, type CodexTokens } from './codex-events.js';
import { SANDBOX_DENIAL } from './failures.js';
import { obj } from './loose-json.js';

/**
 * Codex's rollout, `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`: the thread's
 * running token total (the baseline of a resumed run) and the rate-limit windows the provider
 * reported in `x-codex-*` headers (the reset time of a usage limit, to the second).
 */

export interface RolloutFacts {
  /** The last `token_count` total of the thread, if any model call finished. */
  totalUsage: CodexTokens | null;
  /** ISO reset time of the exhausted window(s) (`used_percent` ≥ 100), the later if both are. */
  exhaustedResetAt: string | null;
  /**
   * Tool calls the sandbox refused (a write under `-s read-only`), one line each, from the
   * `function_call_output`s recorded at or after `since`: `codex exec --json` prints no event for
   * a command it ran in a read-only sandbox, so its refusals are only in the rollout.
   */
  denials: string[];
}

function findRollout(codexHome: string, threadId: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(join(codexHome, 'sessions'), { recursive: true, encoding: 'utf8' });
  } catch {
    return undefined;
  }
  const match = names
    .filter((n) => n.endsWith(`-${threadId}.jsonl`))
    .sort()
    .at(-1);
  return match === undefined ? undefined : join(codexHome, 'sessions', match);
}

function exhaustedReset(rateLimits: Record<string, unknown>): string | null {
  let latest: number | null = null;
  for (const window of [obj(rateLimits.primary), obj(rateLimits.secondary)]) {
    if (typeof window.used_percent !== 'number' || window.used_percent < 100) continue;
    if (typeof window.resets_at === 'number' && window.resets_at > 0) latest = Math.max(latest ?? 0, window.resets_at);
  }
  return latest === null ? null : new Date(latest * 1000).toISOString();
}

export function readRollout(codexHome: string, threadId: string, since = 0): RolloutFacts {
  const facts: RolloutFacts = { totalUsage: null, exhaustedResetAt: null, denials: [] };
  const path = findRollout(codexHome, threadId);
  if (path === undefined) return facts;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return facts;
  }
  const calls = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.includes('"function_call')) readCall(line, since, calls, facts.denials);
    if (!line.includes('"token_count"')) continue;
    let payload: Record<string, unknown>;
    try {
      payload = obj(obj(JSON.parse(line)).payload);
    } catch {
      continue;
    }
    if (payload.type !== 'token_count') continue;
    const total = obj(payload.info).total_token_usage;
    if (total !== undefined && total !== null) facts.totalUsage = codexTokens(total);
    if (payload.rate_limits) facts.exhaustedResetAt = exhaustedReset(obj(payload.rate_limits));
  }
  return facts;
}

/** Folds a `response_item` line: remembers each call's command, and lists an output the sandbox refused. */
function readCall(line: string, since: number, calls: Map<string, string>, denials: string[]): void {
  let entry: Record<string, unknown>;
  try {
    entry = obj(JSON.parse(line));
  } catch {
    return;
  }
  const payload = obj(entry.payload);
  const callId = typeof payload.call_id === 'string' ? payload.call_id : null;
  if (callId === null) return;
  if (payload.type === 'function_call') {
    let command = typeof payload.name === 'string' ? payload.name : 'tool';
    try {
      const args = obj(JSON.parse(typeof payload.arguments === 'string' ? payload.arguments : '{}'));
      if (typeof args.cmd === 'string') command = args.cmd;
    } catch {
      // arguments that are not JSON: keep the tool's name
    }
    calls.set(callId, `${typeof payload.name === 'string' ? payload.name : 'tool'}: ${command}`);
    return;
  }
  if (payload.type !== 'function_call_output' || typeof payload.output !== 'string') return;
  const at = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : NaN;
  if (Number.isFinite(at) && at < since) return;
  const refused = SANDBOX_DENIAL.exec(payload.output);
  if (refused) denials.push(`${(calls.get(callId) ?? 'tool').split('\n')[0]}: ${refused[0]}`);
}
