import { CancellationScope, condition, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import type { ExternalFlagInfo } from '../activities/index.js';
import { FailureType } from '../protocol/failure-types.js';
import { readFlagName } from '../protocol/flag-name.js';
import { reviewPath, sessionFilePath } from '../protocol/layout.js';
import { type PackRef, renderReviewerPrompt } from '../protocol/prompts/prompts.js';
import type { AgentConfig, LoopConfig } from '../protocol/schemas/loop-config.js';
import type { ReviewOutcome } from '../protocol/schemas/state.js';
import type { AgentRunResult } from '../protocol/schemas/agent-result.js';
import type { AgentRun } from '../protocol/session-rules.js';
import type { AgentRunOutcome, DurableRunSpec } from './agent-run.js';
import { disregardedReviewNamed, heartbeatTouchIsLife } from './patches.js';
import { agentRunOptions, agentSteps, type FileSteps, watcherSteps } from './proxies.js';
import { type SessionTrail, waitPolicy } from './session-trail.js';
import { waitOutUsageLimit } from './usage-wait.js';

/**
 * The review phase of one session (docs/protocol.md#canonical-order, step 5, #review-wait): every reviewer gets durable
 * timers from READY; managed reviewers run as agent activities, external ones are watched on disk.
 * Returns when the gate closes, a stop arrives, or every wait has ended.
 */

type RunState = 'awaiting_start' | 'running' | 'done_pending_artifact' | 'terminal';

interface ReviewerRun {
  agent: AgentConfig;
  state: RunState;
  outcome: ReviewOutcome['outcome'] | null;
  counted: boolean;
  readyAt: number;
  runningAt: number | null;
  lastBeatAt: number | null;
  terminalOrder: number;
  review: Pick<ReviewOutcome, 'verdict' | 'recommendation' | 'file' | 'trendDigest' | 'risks' | 'nextAction'> | null;
  scope: CancellationScope | null;
  /** The gate closed (or a stop came) while this managed reviewer still ran or waited. */
  dropped: boolean;
  /** Why the engine disregarded this external reviewer's latest refused flag; null when none was. */
  disregarded: string | null;
}

export interface ReviewGateInput {
  config: LoopConfig;
  session: number;
  sessionLabel: string;
  /** The supervisor's agent token: it writes VIOLATION/REPAIRED and is every reviewer's `next`. */
  supervisorToken: string;
  files: FileSteps;
  trail: SessionTrail;
  /** Pending names of files that external agents wrote (filled by the externalFlag signal). */
  inbox: string[];
  stopNow: () => boolean;
  usage: (result: AgentRunResult) => void;
  /**
   * An optional reviewer cancelled because the gate closed ends with its REVIEW_SKIPPED record
   * only (docs/protocol.md#review-wait rule 8); a BLOCKED flag after it would read as REVIEW_LATE. Off in older runs.
   */
  skipWithoutFlag?: boolean;
  /** External flags are judged by the protocol's state machine (the one `validate` runs), not only by the checks here. Off in older runs. */
  judgeByLifecycle?: boolean;
  /** A reviewer's usage-limit wait begins (until, ISO) and ends: the loop shows it. */
  onUsageWait?: (until: string) => void;
  onUsageResume?: () => void;
  /** The session's evidence pack: named in the reviewer prompt, its images given to the runs. */
  pack?: PackRef | null;
  /**
   * The session's one durable path for agent runs (workflows/agent-run.ts), with what a run is told
   * and the threads it keeps. Absent in runs before the failure policy: the usage-wait loop here.
   */
  runDurably?: (spec: DurableRunSpec) => Promise<AgentRunOutcome>;
  runExtras?: (output: string, thread: string | null) => object;
  startThread?: (agent: AgentConfig) => string | null;
  keepThread?: (agent: AgentConfig, outcome: AgentRunOutcome) => void;
  /**
   * Managed reviewers get the external ones' start deadline (no worker started the run) and
   * heartbeat deadline (no sign of life: the run's idle timeout), and a required reviewer's usage
   * wait holds the gate until the loop's wall clock. Absent in runs before it.
   */
  managedDeadlines?: { wallClockDeadlineMs: () => number | null };
}

export interface ReviewGateResult {
  reviews: ReviewOutcome[];
  /** Required reviewers without a counted DONE (timed out, blocked, abstained, skipped). */
  missingRequired: string[];
  requiredBlocked: boolean;
}

const EMPTY_REVIEW = { verdict: null, recommendation: null, file: null, trendDigest: '', risks: '', nextAction: '' };

type TimeoutCode = 'REVIEW_START_TIMEOUT' | 'REVIEW_DONE_TIMEOUT' | 'REVIEW_HEARTBEAT_TIMEOUT';

export async function runReviewGate(input: ReviewGateInput): Promise<ReviewGateResult> {
  return new ReviewGate(input).run();
}

/** One session's review gate: every reviewer's run, its deadlines, and the external flags that arrive. */
class ReviewGate {
  private readonly wait: LoopConfig['reviewWait'];
  private readonly readyAt: number;
  private order = 0;
  private readonly runs: ReviewerRun[];
  private readonly externals: ReviewerRun[];
  /** External flag names already read (a review file may be read again: its artifact can arrive late). */
  private readonly processed = new Set<string>();
  /** Accepted external HEARTBEAT flags and their modification times: touched again, one is life again. */
  private readonly beats = new Map<string, number>();
  /** `heartbeat-touch-is-life`, asked when a HEARTBEAT already read comes again (undefined until then). */
  private touchIsLife: boolean | undefined;
  private readonly waitLine: string;
  private readonly artifacts: string[];

  constructor(private readonly input: ReviewGateInput) {
    const { config, session } = input;
    this.wait = config.reviewWait;
    this.readyAt = now();
    this.runs = config.reviewers.map((agent) => ({
      agent,
      state: 'awaiting_start',
      outcome: null,
      counted: false,
      readyAt: this.readyAt,
      runningAt: null,
      lastBeatAt: null,
      terminalOrder: 0,
      review: null,
      scope: null,
      dropped: false,
      disregarded: null,
    }));
    this.externals = this.runs.filter((r) => r.agent.kind === 'external');
    this.waitLine = `start=${this.wait.startMs / 1000}s done=${this.wait.doneMs / 1000}s heartbeat=${this.wait.heartbeatMs / 1000}s`;
    this.artifacts = ['executorReport', 'executorProposal', 'metrics', 'supervisorAnalysis', 'reviewerRequests'].map(
      (f) => sessionFilePath(session, f as 'metrics'),
    );
  }

  /** Runs the gate until it closes, a stop arrives, or every wait has ended; then skips and records what is left. */
  async run(): Promise<ReviewGateResult> {
    const { config, session, files } = this.input;
    const { runs } = this;
    const watchers = new CancellationScope();
    if (this.externals.length > 0) {
      void watchers
        .run(() =>
          watcherSteps(config).watchFlags({
            root: config.root,
            session,
            readyAtMs: this.readyAt,
            tokens: this.externals.map((r) => r.agent.token),
          }),
        )
        .catch((error: unknown) => {
          if (!isCancellation(error)) throw error;
        });
    }
    const managed = runs.filter((r) => r.agent.kind !== 'external').map((run) => this.runManaged(run));

    while (!this.gateClosed() && !this.input.stopNow()) {
      const deadlines = runs.map((r) => this.deadlineOf(r)).filter((d) => d !== null);
      const next = deadlines.length ? Math.min(...deadlines.map((d) => d.at)) : null;
      const wake = () => this.input.inbox.length > 0 || this.gateClosed() || this.input.stopNow();
      if (next === null) await condition(wake);
      else if (next > now()) await condition(wake, next - now());
      const names = this.input.inbox
        .splice(0)
        .filter((n) => !this.processed.has(n) || n.endsWith('.md') || (this.beats.has(n) && this.touchedBeatsCount()));
      if (names.length > 0) {
        for (const n of names) this.processed.add(n);
        const infos = await files.readExternalFlags({ root: config.root, session, names, readyAtMs: this.readyAt });
        for (const info of infos) {
          if (info.kind === 'flag' && this.beats.has(info.name)) this.beatAgain(info);
          else await this.applyExternal(info);
        }
      }
      for (const run of runs) {
        const d = this.deadlineOf(run);
        if (d && d.at <= now()) await this.timeOut(run, d.code);
      }
    }

    // Gate closed (or stop): the remaining optional reviewers are cancelled, externals skipped.
    for (const run of runs) {
      if (run.state === 'terminal') continue;
      if (run.agent.kind !== 'external') {
        run.dropped = true;
        run.scope?.cancel();
      } else {
        this.finish(run, 'skipped');
      }
    }
    await Promise.all(managed);
    watchers.cancel();
    return this.close();
  }

  /** Whether a HEARTBEAT touched or rewritten in place counts as life (asked once, when the first one comes again). */
  private touchedBeatsCount(): boolean {
    this.touchIsLife ??= heartbeatTouchIsLife();
    return this.touchIsLife;
  }

  /**
   * An accepted HEARTBEAT flag the reviewer touched or rewrote in place: a newer modification time
   * is a sign of life (rule 4), as a change to its review file is. No row: the flag has its row.
   */
  private beatAgain(info: ExternalFlagInfo): void {
    const run = this.externals.find((r) => info.name.startsWith(`${r.agent.token}-SESSION`));
    if (!run || info.mtimeMs <= (this.beats.get(info.name) ?? Infinity)) return;
    this.beats.set(info.name, info.mtimeMs);
    if (run.state === 'running') run.lastBeatAt = now();
  }

  private finish(run: ReviewerRun, outcome: ReviewOutcome['outcome'], counted = false): void {
    run.state = 'terminal';
    run.outcome = outcome;
    run.counted = counted;
    run.terminalOrder = ++this.order;
  }

  private gateClosed(): boolean {
    const required = this.runs.filter((r) => r.agent.required);
    const optional = this.runs.filter((r) => !r.agent.required);
    if (required.some((r) => r.state !== 'terminal')) return false;
    if (this.wait.optionalDoneCount === 0) return true;
    const optionalDone = optional.filter((r) => r.counted).length;
    return optionalDone >= this.wait.optionalDoneCount || optional.every((r) => r.state === 'terminal');
  }

  /** The next deadline of an external reviewer: start, heartbeat or done, whichever comes first. */
  private deadlineOf(run: ReviewerRun): { at: number; code: TimeoutCode } | null {
    const { wait } = this;
    if (run.agent.kind !== 'external' || run.state === 'terminal') return null;
    if (run.state === 'awaiting_start') return { at: run.readyAt + wait.startMs, code: 'REVIEW_START_TIMEOUT' };
    const done = { at: (run.runningAt ?? run.readyAt) + wait.doneMs, code: 'REVIEW_DONE_TIMEOUT' as const };
    if (run.state === 'done_pending_artifact') return done;
    const beat = {
      at: (run.lastBeatAt ?? run.runningAt ?? run.readyAt) + wait.heartbeatMs,
      code: 'REVIEW_HEARTBEAT_TIMEOUT' as const,
    };
    return beat.at < done.at ? beat : done;
  }

  /** Ends a reviewer's wait: its TIMEOUT flag (`why`: the cause, e.g. a stall, instead of the code's words) and record. */
  private async timeOut(run: ReviewerRun, code: TimeoutCode, why?: string): Promise<void> {
    const { trail, supervisorToken } = this.input;
    this.finish(run, 'timeout');
    run.scope?.cancel();
    let meaning = why ?? 'the wait for this reviewer ended; it says nothing about the candidate';
    try {
      await trail.flag(
        run.agent.token,
        'REVIEWER',
        'TIMEOUT',
        {
          code,
          reason: `${why ?? code.toLowerCase().replace(/_/g, ' ')} (${this.waitLine})`,
          next: [supervisorToken],
        },
        `${code}:${run.agent.token}`,
      );
    } catch (error) {
      // The external agent wrote the engine's TIMEOUT flag name itself (disregarded as a VIOLATION
      // when it was read): the record alone ends the wait, rather than a failed loop.
      if (!(run.agent.kind === 'external' && failureType(error) === FailureType.FlagCollision)) throw error;
      meaning += `; the engine's TIMEOUT flag was not written: ${run.agent.token} had written that name itself`;
    }
    trail.record(`${code}:${run.agent.token}`, meaning);
  }

  /**
   * One managed reviewer: RUNNING, the agent run on the session's durable path (retries, usage
   * waits, a human's fix, a stall resumed once), its terminal flag. A required reviewer's usage
   * wait holds the gate until the loop's wall clock, its review window starting again after it.
   */
  private async runManaged(run: ReviewerRun): Promise<void> {
    const { input, wait } = this;
    if (!input.runDurably) return this.runManagedLegacy(run);
    const { config, session, trail, supervisorToken } = input;
    const token = run.agent.token;
    const output = reviewPath(token, session, 'DONE');
    await trail.flag(
      token,
      'REVIEWER',
      'RUNNING',
      { wait: waitPolicy(config), next: [supervisorToken] },
      'managed reviewer launched',
    );
    run.state = 'running';
    run.runningAt = now();
    const scope = new CancellationScope();
    run.scope = scope;
    const prompt = this.reviewerPrompt(run, output);
    const deadlines = input.managedDeadlines;
    const holds = deadlines !== undefined && run.agent.required;
    let doneDeadline = run.runningAt + wait.doneMs;
    const limit = () => Math.max(1000, Math.min(run.agent.timeoutMs ?? wait.doneMs, doneDeadline - now()));
    let outcome: AgentRunOutcome;
    try {
      outcome = await input.runDurably({
        agent: run.agent,
        role: 'REVIEWER',
        phase: 'review',
        next: [],
        launch: (thread) => this.launch(run, scope, prompt, output, limit(), thread),
        startThread: input.startThread?.(run.agent) ?? null,
        ended: () => run.state !== 'running' || run.dropped,
        usageDeadlineMs: () => (holds ? deadlines.wallClockDeadlineMs() : doneDeadline),
        onResume: (kind) => {
          if (holds && (kind === 'usage_wait' || kind === 'human')) doneDeadline = now() + wait.doneMs;
        },
      });
    } catch (error) {
      if (!notStarted(error)) throw error;
      if ((run.state as RunState) !== 'terminal')
        await this.timeOut(
          run,
          'REVIEW_START_TIMEOUT',
          `no worker started the run within the start timeout: is a worker serving task queue ${config.taskQueue} with a free agent slot?`,
        );
      return;
    }
    input.keepThread?.(run.agent, outcome);
    await this.endManaged(run, outcome, holds);
  }

  /** A managed reviewer whose run was cancelled: BLOCKED by a stop, else skipped as the gate closed (flagged unless told not to). */
  private async endCancelled(run: ReviewerRun): Promise<void> {
    const { input } = this;
    this.finish(run, input.stopNow() ? 'blocked' : 'skipped');
    if (run.outcome === 'skipped' && input.skipWithoutFlag) return;
    await input.trail.flag(
      run.agent.token,
      'REVIEWER',
      'BLOCKED',
      {
        reason: input.stopNow() ? 'cancelled: stop requested' : 'cancelled: review gate closed',
        next: [input.supervisorToken],
      },
      'managed reviewer cancelled',
    );
  }

  /** A managed reviewer's terminal flag once its run ended: cancelled, timed out (a reset too late, a stall), or its review read. */
  private async endManaged(run: ReviewerRun, outcome: AgentRunOutcome, holds: boolean): Promise<void> {
    const { input } = this;
    const { config, session, trail, files, supervisorToken } = input;
    const token = run.agent.token;
    const result = outcome.run;
    if ((run.state as RunState) === 'terminal') return; // timed out or skipped while it ran
    if (result === 'cancelled') {
      await this.endCancelled(run);
      return;
    }
    if (outcome.pastDeadline) {
      await this.timeOut(
        run,
        'REVIEW_DONE_TIMEOUT',
        `usage limit: the reset${result.resetAt ? ` at ${result.resetAt}` : ''} lies past the ${holds ? "loop's wall clock" : 'done deadline'}`,
      );
      return;
    }
    if (result.failure?.kind === 'stall') {
      await this.timeOut(
        run,
        input.managedDeadlines ? 'REVIEW_HEARTBEAT_TIMEOUT' : 'REVIEW_DONE_TIMEOUT',
        `stall: ${result.failure.message}`,
      );
      return;
    }
    if (result.status === 'timeout' || result.status === 'usage_limit') {
      await this.timeOut(run, 'REVIEW_DONE_TIMEOUT');
      return;
    }
    const inspected = await files.inspectReview({
      root: config.root,
      session,
      token,
      exitedOk: result.status === 'exited' && result.exitCode === 0 && !result.failure,
      reason: result.failure
        ? `${result.failure.kind} (${result.failure.code}): ${result.failure.message}`
        : result.reason,
      env: [...config.env, ...run.agent.env],
    });
    run.review = inspected.review;
    const status = inspected.status;
    this.finish(run, status === 'DONE' ? 'done' : status === 'ABSTAIN' ? 'abstain' : 'blocked', status === 'DONE');
    await trail.flag(
      token,
      'REVIEWER',
      status,
      {
        reason: status === 'DONE' ? undefined : (inspected.reason ?? 'review did not finish'),
        next: [supervisorToken],
      },
      `managed reviewer ${status.toLowerCase()}`,
      inspected.review.file ? [inspected.review.file] : [],
    );
  }

  private reviewerPrompt(run: ReviewerRun, output: string): string {
    const { config, session } = this.input;
    return renderReviewerPrompt({
      config,
      session,
      sessionLabel: this.input.sessionLabel,
      agent: run.agent.token,
      instructions: run.agent.instructions,
      reviewPath: output,
      artifacts: this.artifacts,
      pack: this.input.pack ?? null,
    });
  }

  /** One managed reviewer as runs before the failure policy ran it: its usage-limit waits within the done deadline. */
  private async runManagedLegacy(run: ReviewerRun): Promise<void> {
    const { input, wait } = this;
    const { config, session, trail, files, supervisorToken } = input;
    const token = run.agent.token;
    const output = reviewPath(token, session, 'DONE');
    await trail.flag(
      token,
      'REVIEWER',
      'RUNNING',
      { wait: waitPolicy(config), next: [supervisorToken] },
      'managed reviewer launched',
    );
    run.state = 'running';
    run.runningAt = now();
    const scope = new CancellationScope();
    run.scope = scope;
    const timeoutMs = Math.min(run.agent.timeoutMs ?? wait.doneMs, wait.doneMs);
    const prompt = this.reviewerPrompt(run, output);
    const doneDeadline = run.runningAt + wait.doneMs;
    let result = await this.launch(run, scope, prompt, output, timeoutMs);
    // A usage limit is waited out within the done deadline, with a HEARTBEAT naming the reset.
    for (
      let attempt = 1;
      result !== 'cancelled' && result.status === 'usage_limit' && run.state === 'running';
      attempt++
    ) {
      input.usage(result);
      const limited: AgentRunResult = result;
      const resumed = await waitOutUsageLimit(limited, {
        attempt,
        deadlineMs: doneDeadline,
        interrupted: () => input.stopNow() || run.state !== 'running',
        onWait: async (until) => {
          input.onUsageWait?.(until);
          await trail.flag(
            token,
            'REVIEWER',
            'HEARTBEAT',
            { reason: `usage limit; waiting until ${until}`, next: [] },
            'reviewer waits for a usage reset',
          );
        },
      });
      if (!resumed) break;
      input.onUsageResume?.();
      result = await this.launch(run, scope, prompt, output, Math.max(1000, doneDeadline - now()));
    }
    if ((run.state as RunState) === 'terminal') return; // timed out or skipped while it ran
    if (result === 'cancelled') {
      await this.endCancelled(run);
      return;
    }
    if (result.status === 'usage_limit') {
      // The reset comes after the done deadline: the wait ends as a done timeout.
      // Its usage was metered when the wait was weighed, above.
      await this.timeOut(run, 'REVIEW_DONE_TIMEOUT');
      return;
    }
    input.usage(result);
    if (result.status === 'timeout') {
      await this.timeOut(run, 'REVIEW_DONE_TIMEOUT');
      return;
    }
    const inspected = await files.inspectReview({
      root: config.root,
      session,
      token,
      exitedOk: result.status === 'exited' && result.exitCode === 0,
      reason: result.reason,
      env: [...config.env, ...run.agent.env],
    });
    run.review = inspected.review;
    const status = inspected.status;
    this.finish(run, status === 'DONE' ? 'done' : status === 'ABSTAIN' ? 'abstain' : 'blocked', status === 'DONE');
    await trail.flag(
      token,
      'REVIEWER',
      status,
      {
        reason: status === 'DONE' ? undefined : (inspected.reason ?? 'review did not finish'),
        next: [supervisorToken],
      },
      `managed reviewer ${status.toLowerCase()}`,
      inspected.review.file ? [inspected.review.file] : [],
    );
  }

  /** One run of a managed reviewer's agent in its scope, with a HEARTBEAT flag per half heartbeat timeout while it runs. */
  private async launch(
    run: ReviewerRun,
    scope: CancellationScope,
    prompt: string,
    output: string,
    remainingMs: number,
    thread: string | null = null,
  ): Promise<AgentRun> {
    const { config, session, trail, managedDeadlines } = this.input;
    const token = run.agent.token;
    let finished = false;
    const options = agentRunOptions(config, remainingMs, `session ${session} · reviewer ${token.toLowerCase()}`);
    const execution = scope
      .run(() =>
        agentSteps(config).runAgent.executeWithOptions(
          // The start deadline: a run no worker picks up in time fails as not started (docs/protocol.md#review-wait).
          managedDeadlines ? { ...options, scheduleToStartTimeout: this.wait.startMs } : options,
          [
            {
              root: config.root,
              session,
              role: 'REVIEWER',
              agent: run.agent,
              loopEnv: config.env,
              prompt,
              output,
              timeoutMs: remainingMs,
              ...(this.input.pack ? { images: this.input.pack.images } : {}),
              // Since the failure policy: what the run must write, its thread, the budget left, and
              // the evidence command a reviewer may rerun to check the claims.
              ...(this.input.runExtras
                ? { ...this.input.runExtras(output, thread), evidenceCommand: config.evidence.command }
                : {}),
              // The heartbeat deadline: no output and no file change for that long is a stall.
              ...(managedDeadlines ? { idleTimeoutMs: this.wait.heartbeatMs } : {}),
            },
          ],
        ),
      )
      .then(
        (result): AgentRunResult | 'cancelled' => result,
        (error: unknown) => {
          if (isCancellation(error)) return 'cancelled' as const;
          throw error;
        },
      )
      .finally(() => {
        finished = true;
      });
    // One managed HEARTBEAT per half heartbeat timeout at most.
    while (!finished) {
      const ended = await condition(() => finished, Math.max(1000, Math.floor(this.wait.heartbeatMs / 2)));
      if (!ended && !finished && run.state === 'running') {
        await trail.flag(token, 'REVIEWER', 'HEARTBEAT', { next: [] }, 'managed reviewer alive');
      }
    }
    return execution;
  }

  /** A flag or review file an external agent wrote: taken into its run's state, or disregarded as a violation. */
  private async applyExternal(info: ExternalFlagInfo): Promise<void> {
    const { trail, session, supervisorToken } = this.input;
    const { externals } = this;
    if (info.kind === 'review') {
      const run = externals.find((r) => reviewPath(r.agent.token, session, 'DONE') === info.path);
      if (!run) return;
      if (run.state === 'running') run.lastBeatAt = now();
      if (run.state === 'done_pending_artifact' && info.artifactOk) {
        this.finish(run, 'done', true);
        run.review = info.review;
        trail.accept(info.name, 'review artifact arrived after its DONE flag: counted', '-', {
          reviewOf: run.agent.token,
        });
      }
      return;
    }
    const reject = (code: string, why: string) => this.disregard(info, code, why);
    if (info.problem) return reject(info.problem.code, info.problem.message);
    const flag = info.flag!;
    const run = externals.find((r) => r.agent.token === flag.agent);
    if (!run || flag.role !== 'REVIEWER') {
      return reject(
        'FLAG_UNKNOWN_PRODUCER',
        `${info.name}: ${flag.agent} is not an external reviewer of this loop (roster: ${externals.map((r) => r.agent.token).join(', ') || 'none'})`,
      );
    }
    if (info.writtenBeforeReady && flag.status !== 'STANDBY') {
      return reject('ORDER_REVIEW_BEFORE_READY', `${info.name} was written before SUPERVISOR-READY`);
    }
    if (this.input.judgeByLifecycle) {
      const error = trail.judge(flag, info.artifactOk).find((f) => f.severity === 'error');
      if (error) return reject(error.code, error.message);
    }
    if (run.state === 'terminal') {
      if (run.outcome === 'timeout' || run.outcome === 'skipped') {
        trail.accept(info.name, 'late: the wait had already ended');
        trail.record(`REVIEW_LATE:${run.agent.token}`, 'flag after the timeout or skip; not counted');
        return;
      }
      if (['DONE', 'BLOCKED', 'ABSTAIN'].includes(flag.status))
        return reject('TERMINAL_AFTER_TERMINAL', `${info.name}: ${flag.agent} already ended its review`);
      return;
    }
    switch (flag.status) {
      case 'STANDBY':
        trail.accept(info.name, 'reviewer on standby');
        return;
      case 'RUNNING':
        if (run.state !== 'awaiting_start')
          return reject('FLAG_DUPLICATE', `${info.name}: ${flag.agent} already started`);
        run.state = 'running';
        run.runningAt = now();
        run.lastBeatAt = now();
        trail.accept(info.name, 'external reviewer started');
        return;
      case 'HEARTBEAT':
        if (run.state === 'running') run.lastBeatAt = now();
        this.beats.set(info.name, info.mtimeMs);
        trail.accept(info.name, 'external reviewer alive');
        return;
      case 'DONE':
        run.review = info.review;
        if (run.runningAt === null) run.runningAt = now();
        if (info.artifactOk) {
          this.finish(run, 'done', true);
          trail.accept(info.name, 'external review done', supervisorToken);
        } else {
          run.state = 'done_pending_artifact';
          trail.accept(info.name, 'DONE without its review file: waiting for it until the done deadline', '-', {
            artifactOk: false,
          });
          trail.record(
            `REVIEW_DONE_WITHOUT_ARTIFACT:${run.agent.token}`,
            `expected ${reviewPath(run.agent.token, session, 'DONE')}`,
          );
        }
        return;
      case 'BLOCKED':
      case 'ABSTAIN':
        run.review = info.review;
        this.finish(run, flag.status === 'BLOCKED' ? 'blocked' : 'abstain');
        trail.accept(info.name, `external reviewer ${flag.status.toLowerCase()}`, supervisorToken);
        return;
      default:
        return reject('FLAG_NAME_INVALID', `${info.name}: a reviewer may not write ${flag.status}`);
    }
  }

  /** A flag the gate cannot take: VIOLATION, then REPAIRED by disregarding it. */
  private disregard(info: ExternalFlagInfo, code: string, why: string): Promise<void> {
    // Kept for the decision: a reviewer whose flag was refused did not go missing.
    const named = info.flag ?? readFlagName(info.name).flag;
    const run = named?.role === 'REVIEWER' ? this.externals.find((r) => r.agent.token === named.agent) : undefined;
    if (run) run.disregarded = why;
    return this.input.trail.violationRepaired({
      by: this.input.supervisorToken,
      code,
      subject: info.path,
      reason: why,
      noted: why,
      repaired: { reason: 'disregarded', noted: 'the flag is disregarded' },
    });
  }

  /** Skip records, reviews consumed in flag order, and the gate's result. */
  private close(): ReviewGateResult {
    const { trail, stopNow } = this.input;
    const { runs } = this;
    // `disregarded-review-named`: a required review that did not count because its flag was refused says so.
    const named =
      runs.some((r) => !r.counted && r.disregarded !== null) && disregardedReviewNamed()
        ? (run: ReviewerRun) => (run.counted ? null : run.disregarded)
        : () => null;
    const gone = (run: ReviewerRun) => {
      const why = named(run);
      return why ? `required review not counted: its flag was disregarded (${why})` : 'required review missing';
    };
    for (const run of runs.filter((r) => r.outcome === 'skipped'))
      trail.record(`REVIEW_SKIPPED:${run.agent.token}`, stopNow() ? 'stop requested' : 'review gate closed without it');
    for (const run of [...runs].filter((r) => r.counted).sort((a, b) => a.terminalOrder - b.terminalOrder)) {
      trail.record(`REVIEW_CONSUMED:${run.agent.token}`, 'review read into the decision');
    }
    const missingRequired = runs.filter((r) => r.agent.required && !r.counted).map((r) => r.agent.token);
    if (this.wait.skipOnTimeout) {
      for (const token of missingRequired) {
        if (!runs.find((r) => r.agent.token === token && r.outcome === 'skipped'))
          trail.record(
            `REVIEW_SKIPPED:${token}`,
            `${gone(runs.find((r) => r.agent.token === token)!)}; skip_on_timeout lets the session go on`,
          );
      }
    }
    return {
      reviews: runs.map((run) => ({
        agent: run.agent.token,
        required: run.agent.required,
        outcome: run.outcome ?? 'skipped',
        counted: run.counted,
        ...(run.review ?? EMPTY_REVIEW),
        ...(named(run) ? { disregarded: named(run)! } : {}),
      })),
      missingRequired,
      requiredBlocked: runs.some((r) => r.agent.required && r.outcome === 'blocked'),
    };
  }
}

/** An agent run no worker started within its start deadline (scheduleToStartTimeout). */
function notStarted(error: unknown): boolean {
  for (let e = error as { cause?: unknown } | null | undefined; e; e = e.cause as typeof e) {
    if (e instanceof TimeoutFailure) return e.timeoutType === 'SCHEDULE_TO_START';
  }
  return false;
}

/** Workflow time in epoch ms (deterministic on replay: the sandbox replaces Date). */
const now = (): number => new Date().getTime();

/**
 * The ApplicationFailure type of an activity's failure: a local activity's arrives as the
 * ApplicationFailure itself, a regular one's as the cause of an ActivityFailure.
 */
function failureType(error: unknown): string | undefined {
  for (let e = error as { type?: unknown; cause?: unknown } | null | undefined; e; e = e.cause as typeof e) {
    if (typeof e.type === 'string') return e.type;
  }
  return undefined;
}
