import { condition } from '@temporalio/workflow';
import type { AgentRunResult } from '../protocol/schemas/agent-result.js';
import { passedResetRetriedSoon } from './patches.js';

/** Without a reset time from the provider, wait this long, doubling per attempt, at most an hour. */
export const USAGE_BACKOFF_MS = 5 * 60_000;
const USAGE_BACKOFF_MAX_MS = 60 * 60_000;
/**
 * A reset time from the provider that has already passed when the engine reads it (the run ended
 * just before it, or the clocks differ by a little): run again after this grace, doubling per
 * attempt like the backoff, so a provider that keeps naming a past reset is not asked in a tight loop.
 */
export const PASSED_RESET_GRACE_MS = 5_000;

export interface UsageWaitOptions {
  /** Attempts so far (1 after the first usage-limit result). */
  attempt: number;
  /** Ends the wait early: a stop, a closed gate. */
  interrupted: () => boolean;
  /** A deadline the wait may not pass (epoch ms), e.g. a reviewer's done deadline. */
  deadlineMs?: number | null;
  /** Called when the wait begins, with its end (ISO), to record it. */
  onWait: (until: string) => Promise<void>;
}

/**
 * A usage or rate limit does not fail the loop (docs/architecture.md#what-runs-where): sleep on a durable timer until
 * the provider's reset time (or a backoff) and let the caller run the agent again. Returns false
 * when the wait was interrupted or would pass the deadline.
 */
export async function waitOutUsageLimit(result: AgentRunResult, options: UsageWaitOptions): Promise<boolean> {
  const now = new Date().getTime();
  const reset = result.resetAt ? Date.parse(result.resetAt) : NaN;
  const backoff = (base: number) => now + Math.min(base * 2 ** (options.attempt - 1), USAGE_BACKOFF_MAX_MS);
  const until = !Number.isFinite(reset)
    ? backoff(USAGE_BACKOFF_MS)
    : reset > now
      ? reset
      : backoff(passedResetRetriedSoon() ? PASSED_RESET_GRACE_MS : USAGE_BACKOFF_MS);
  if (options.deadlineMs != null && until >= options.deadlineMs) return false;
  await options.onWait(new Date(until).toISOString());
  const interrupted = await condition(options.interrupted, Math.max(1, until - now));
  return !interrupted;
}
