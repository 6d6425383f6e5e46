import { CancellationScope, condition, isCancellation, setHandler, sleep } from '@temporalio/workflow';
import type { RestoreResult } from '../activities/variants.js';
import type { BudgetLimits, SessionStop } from '../protocol/schemas/messages.js';
import type { StopReason } from '../protocol/vocabulary.js';
import { externalFlagSignal, sessionBudgetSignal, sessionResumeSignal, sessionStopSignal } from './messages.js';
import type { SessionFixes2026 } from './patches.js';
import type { SessionInput } from './session-state.js';

/**
 * What the loop's signals change in a running session, and the stops they cause: a stop (now
 * cancels the running agent), a raised budget (the wall-clock timer starts over), the names of
 * files external agents wrote. Handlers only change this state; the session's steps read it.
 */
export class SessionControl {
  stop: SessionStop | null;
  budget: BudgetLimits;
  /** Pending names of files that external agents wrote (filled by the externalFlag signal). */
  readonly inbox: string[] = [];
  private readonly running = new Set<CancellationScope>();
  /** Bumped by each budget the loop sends, so the wall-clock timer starts over from the new limit. */
  private budgetVersion = 0;
  /** Bumped by each resume the loop forwards to a run that waits for a human. */
  private resumes = 0;

  constructor(
    private readonly input: SessionInput,
    private readonly fixes: SessionFixes2026,
  ) {
    this.stop = input.stop;
    this.budget = input.budget;
  }

  /** Sets the handlers; before any await, so an early signal is not lost. */
  listen(): void {
    setHandler(sessionStopSignal, (s) => {
      if (!this.stop || (s.mode === 'now' && this.stop.mode !== 'now')) this.stop = s;
      if (s.mode === 'now') for (const scope of this.running) scope.cancel();
    });
    setHandler(externalFlagSignal, (payload) => {
      // The loop checks payloads; one sent to this workflow directly must not fail its task either.
      if (typeof payload?.file === 'string') this.inbox.push(payload.file);
    });
    setHandler(sessionBudgetSignal, (raised) => {
      this.budget = raised;
      this.budgetVersion += 1;
    });
    setHandler(sessionResumeSignal, () => {
      this.resumes += 1;
    });
  }

  /**
   * Waits for the loop's resume (a human fixed what a run needs); false when a stop (either mode)
   * or `ended` (the review gate closed) ends the wait first: a human who stops wants no retry.
   */
  async waitForResume(ended: () => boolean = () => false): Promise<boolean> {
    const seen = this.resumes;
    await condition(() => this.resumes > seen || this.stop !== null || ended());
    return this.resumes > seen;
  }

  stopNow(): boolean {
    return this.stop?.mode === 'now';
  }

  /** A stop from inside the session (wall clock, a failed restore) cancels the running agent and closes the session by its normal path. */
  stopFromSession(reason: StopReason, note: string): void {
    if (!this.stop || this.stop.mode !== 'now') this.stop = { mode: 'now', reason, note };
    for (const scope of this.running) scope.cancel();
  }

  /** Starts the wall-clock timer: when the budget runs out, the session stops now. */
  watchWallClock(): void {
    const { input } = this;
    if (input.budget.wallClockMs === null) return;
    if (!this.fixes.wallClockFollowsRaisedBudget) {
      const remaining = input.loopStartedAtMs + input.budget.wallClockMs - new Date().getTime();
      void sleep(Math.max(1, remaining)).then(() =>
        this.stopFromSession('budget_wall_clock', 'wall-clock budget reached'),
      );
      return;
    }
    // The timer starts over when the loop raises the budget (extendBudget while this session runs).
    void (async () => {
      for (;;) {
        const seen = this.budgetVersion;
        const raised = () => this.budgetVersion !== seen;
        const limit = this.budget.wallClockMs;
        const changed =
          limit === null
            ? (await condition(raised), true)
            : await condition(raised, Math.max(1, input.loopStartedAtMs + limit - new Date().getTime()));
        if (!changed) break;
      }
      this.stopFromSession('budget_wall_clock', 'wall-clock budget reached');
    })();
  }

  /** Files that cannot be restored byte for byte leave the workspace unknown: the loop stops. */
  checkRestore(restored: RestoreResult | null, what: string): void {
    if (this.fixes.unverifiedRestoreStopsLoop && restored && !restored.verified) {
      this.stopFromSession(
        'protocol_violation',
        `the restore of ${what} did not verify: the workspace is not what the protocol needs`,
      );
    }
  }

  /** Runs an activity a stop-now may cancel. */
  async cancellable<T>(fn: () => Promise<T>): Promise<T | 'cancelled'> {
    if (this.stopNow()) return 'cancelled';
    const scope = new CancellationScope();
    this.running.add(scope);
    try {
      return await scope.run(fn);
    } catch (error) {
      if (isCancellation(error)) return 'cancelled';
      throw error;
    } finally {
      this.running.delete(scope);
    }
  }
}
