import { condition } from '@temporalio/workflow';
import {
  budgetUse,
  budgetWarnings,
  type BudgetUse,
  extendedBudget,
  extensionProblems,
  spentBudget,
} from '../protocol/budget.js';
import { parseDuration } from '../protocol/duration.js';
import type { ExtendBudgetInput } from '../protocol/schemas/messages.js';
import type { StopReason } from '../protocol/vocabulary.js';
import type { LoopCarry } from './loop-state.js';

/** An extendBudget request as the loop applies it (the zod-parsed payload, its wall clock in ms). */
export interface Extension {
  request: ExtendBudgetInput & { note: string };
  wallClockMs: number | undefined;
}

/**
 * The loop's budget, kept in its carried state: what is used and spent, the 80 % warnings (each
 * once), the wall-clock deadline of every wait, and extensions. The arithmetic is protocol/budget.ts.
 */
export class LoopBudget {
  constructor(
    private readonly state: LoopCarry,
    private readonly refuseNewLimits: boolean,
  ) {}

  used(nowMs: number): BudgetUse {
    return budgetUse(this.state, nowMs);
  }

  /** The budget that is spent, checked at the session boundary; null while all remain. */
  spent(nowMs: number): StopReason | null {
    return spentBudget(this.state.budget, this.used(nowMs));
  }

  /** Budgets newly past 80 %: each is marked warned and its message returned, once per loop. */
  newWarnings(nowMs: number): string[] {
    const fresh = budgetWarnings(this.state.budget, this.used(nowMs)).filter(
      (w) => !this.state.budgetWarned.includes(w.budget),
    );
    this.state.budgetWarned.push(...fresh.map((w) => w.budget));
    return fresh.map((w) => w.message);
  }

  /** The wall-clock deadline (epoch ms, workflow time), null without a wall-clock limit. */
  deadline(): number | null {
    return this.state.budget.wallClockMs === null ? null : this.state.startedAtMs + this.state.budget.wallClockMs;
  }

  /**
   * Waits for `ready` or a stop, bounded by the wall-clock budget and by `untilMs` (epoch ms) when
   * given; false when the budget ran out or `untilMs` came first.
   */
  async waitFor(ready: () => boolean, untilMs?: number): Promise<boolean> {
    const wall = this.deadline();
    const d = untilMs === undefined ? wall : wall === null ? untilMs : Math.min(wall, untilMs);
    if (d === null) {
      await condition(() => ready() || this.state.stop !== null);
      return true;
    }
    return condition(() => ready() || this.state.stop !== null, Math.max(1, d - new Date().getTime()));
  }

  /** The wall clock of a parsed request, in ms. */
  extension(request: Extension['request']): Extension {
    return { request, wallClockMs: request.wallClock !== undefined ? parseDuration(request.wallClock)! : undefined };
  }

  /** Refuses an extension that would not raise the budget. */
  checkExtension(ext: Extension): void {
    const issues = extensionProblems(
      this.state.budget,
      { ...ext.request, wallClockMs: ext.wallClockMs },
      this.refuseNewLimits,
    );
    if (issues.length) throw new Error(`extend only raises a budget: ${issues.join('; ')}`);
  }

  /** Applies an extension, each changed limit audited as a contract amendment. */
  extend(ext: Extension, at: string, session: number): void {
    const { limits, changes } = extendedBudget(this.state.budget, { ...ext.request, wallClockMs: ext.wallClockMs });
    for (const c of changes)
      this.state.amendments.push({
        at,
        session,
        kind: 'extendBudget',
        field: c.field,
        before: c.before,
        after: c.after,
        note: ext.request.note,
      });
    this.state.budget = limits;
  }
}
