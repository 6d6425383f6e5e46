import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { countedTokens, runBudgetCrossed } from '../../protocol/budget.js';
import type { AgentUsage } from '../../protocol/schemas/agent-result.js';
import { codexCostUsd, type TokenPrice } from '../../protocol/models.js';
import { codexTokens, tokensSince, ZERO_CODEX_TOKENS, type CodexTokens } from './codex-events.js';
import { followJsonl, type JsonlFollower } from './jsonl-follower.js';
import { num, obj, str } from './loose-json.js';
import type { RunAgentInput } from './run-agent.js';

/**
 * Metering while a run goes (docs/agent-setup.md#metering): what an agent CLI has spent so far,
 * read as it happens, so a run that crosses the loop's token or cost budget is stopped at the
 * limit instead of after the session. Codex writes a `token_count` line to its rollout after every
 * model call (its event stream reports usage only when the turn ends); Claude Code's stream carries
 * each API call's usage on its `assistant` messages (its cost only in the final `result`, so its
 * cost limit is Claude's own `--max-budget-usd`).
 */

export type RunFigures = Pick<AgentUsage, 'tokensIn' | 'tokensCached' | 'tokensOut' | 'costUsd'>;

/** Codex: this process's tokens so far, from the thread's rollout, priced by the model's price. */
export class CodexRunMeter {
  private follower: JsonlFollower | null = null;
  private total: CodexTokens | null = null;

  constructor(
    private readonly codexHome: string,
    private readonly baseline: CodexTokens,
    private readonly price: TokenPrice | null,
  ) {}

  /** Reads what the rollout gained since the last call; the rollout is found once the thread id is known. */
  poll(threadId: string | null): CodexTokens {
    if (this.follower === null && threadId !== null) {
      const path = findRollout(this.codexHome, threadId);
      if (path !== undefined)
        this.follower = followJsonl(path, (line) => {
          const payload = obj(line.payload);
          if (line.type !== 'event_msg' || payload.type !== 'token_count') return;
          const total = obj(payload.info).total_token_usage;
          if (total !== undefined && total !== null) this.total = codexTokens(total);
        });
    }
    this.follower?.poll();
    return this.tokens();
  }

  tokens(): CodexTokens {
    return this.total === null ? ZERO_CODEX_TOKENS : tokensSince(this.total, this.baseline);
  }

  figures(tokens: CodexTokens = this.tokens()): RunFigures {
    return {
      tokensIn: tokens.input,
      tokensCached: tokens.cached,
      tokensOut: tokens.output,
      costUsd: codexCostUsd(tokens, this.price),
    };
  }

  close(): void {
    this.follower?.close();
  }
}

function findRollout(codexHome: string, threadId: string): string | undefined {
  try {
    const match = readdirSync(join(codexHome, 'sessions'), { recursive: true, encoding: 'utf8' })
      .filter((n) => n.endsWith(`-${threadId}.jsonl`))
      .sort()
      .at(-1);
    return match === undefined ? undefined : join(codexHome, 'sessions', match);
  } catch {
    return undefined;
  }
}

/** Claude Code: tokens of the API calls seen so far, each message counted once (its last usage line). */
export class ClaudeRunMeter {
  private readonly byMessage = new Map<string, { input: number; cached: number; output: number }>();

  apply(event: Record<string, unknown>): void {
    if (event.type !== 'assistant') return;
    const message = obj(event.message);
    const id = str(message.id);
    // Synthetic messages (API errors) carry no usage worth counting.
    if (id === null || message.model === '<synthetic>') return;
    const u = obj(message.usage);
    const cached = num(u.cache_read_input_tokens) + num(u.cache_creation_input_tokens);
    this.byMessage.set(id, { input: num(u.input_tokens) + cached, cached, output: num(u.output_tokens) });
  }

  figures(): RunFigures {
    let tokensIn = 0;
    let tokensCached = 0;
    let tokensOut = 0;
    for (const m of this.byMessage.values()) {
      tokensIn += m.input;
      tokensCached += m.cached;
      tokensOut += m.output;
    }
    return { tokensIn, tokensCached, tokensOut, costUsd: 0 };
  }
}

/**
 * Stops a run once its figures cross what is left of the loop's budgets: `check` runs every tick
 * of the launcher and aborts `signal` at the first crossing, remembering which budget it was.
 */
export class BudgetStop {
  private readonly controller = new AbortController();
  crossed: 'budget_tokens' | 'budget_cost' | null = null;
  /** The run's figures when it was stopped. */
  at: RunFigures | null = null;

  constructor(private readonly left: RunAgentInput['budgetLeft']) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  check(figures: RunFigures): void {
    if (this.crossed !== null) return;
    const crossed = runBudgetCrossed(this.left, figures);
    if (crossed === null) return;
    this.crossed = crossed;
    this.at = figures;
    this.controller.abort();
  }

  /** The run's failure once stopped, for AgentRunResult.failure. */
  failure(): { kind: 'budget'; code: 'budget_tokens' | 'budget_cost'; message: string; fix: string } | null {
    if (this.crossed === null || !this.left) return null;
    const what =
      this.crossed === 'budget_tokens'
        ? `${this.left.tokens} ${this.left.count} tokens left of the loop's token budget`
        : `$${this.left.costUsd} left of the loop's cost budget`;
    return {
      kind: 'budget',
      code: this.crossed,
      message: `stopped at the limit: the run crossed the ${what}`,
      fix: 'give the loop a larger budget (`loop-station extend <loop> --tokens N` or `--cost-usd X` while it runs; budget.tokens or budget.costUsd in the spec for the next one)',
    };
  }
}

/** What is left of `left` once a launch of the run spent `usage` (the nudge that follows it gets the rest). */
export function leftAfter(
  left: RunAgentInput['budgetLeft'],
  usage: Pick<AgentUsage, 'tokensIn' | 'tokensCached' | 'tokensOut' | 'costUsd'>,
): RunAgentInput['budgetLeft'] {
  if (!left) return left;
  return {
    tokens: left.tokens === null ? null : Math.max(0, left.tokens - countedTokens(usage, left.count)),
    costUsd: left.costUsd === null ? null : Math.max(0, left.costUsd - usage.costUsd),
    count: left.count,
  };
}
