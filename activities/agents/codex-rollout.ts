import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codexTokens, type CodexTokens } from './codex-events.js';
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

export function readRollout(codexHome: string, threadId: string): RolloutFacts {
  const facts: RolloutFacts = { totalUsage: null, exhaustedResetAt: null };
  const path = findRollout(codexHome, threadId);
  if (path === undefined) return facts;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return facts;
  }
  for (const line of text.split('\n')) {
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
