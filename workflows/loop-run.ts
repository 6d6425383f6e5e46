import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  type ChildWorkflowHandle,
  allHandlersFinished,
  condition,
  currentUpdateInfo,
  setCurrentDetails,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type WorkflowInfo,
} from '@temporalio/workflow';
import { advanceBreaker, BREAKER_CLOSED, failurePolicy, sessionFailure } from '../protocol/agent-failures.js';
import { DECISION_TRAITS } from '../protocol/decision-traits.js';
import { evidenceFailure } from '../protocol/evidence-output.js';
import { baselineVariantDir, sessionLabel } from '../protocol/layout.js';
import { renderStatusCard } from '../protocol/render/status-card.js';
import { workingTreeLine } from '../protocol/working-tree.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { LoopPhase, LoopResult, LoopStatus, SessionStop } from '../protocol/schemas/messages.js';
import type { EvidenceResult, Intervention, SenderRef } from '../protocol/schemas/state.js';
import { applyHumanAnswer } from '../protocol/session-decision.js';
import type { DecisionClass, StopReason } from '../protocol/vocabulary.js';
import { LoopBudget } from './loop-budget.js';
import { LoopNotifier } from './loop-notifier.js';
import {
  initialCarry,
  type LoopCarry,
  type LoopInput,
  loopStatus,
  MAX_INTERVENTIONS,
  MAX_NOTICES,
  RECENT_RECORDS,
} from './loop-state.js';
import {
  budgetWarningsReachLedgerAtOnce,
  evidenceErrorInMemo,
  heldAnswerRecorded,
  evidenceFailuresTripBreaker,
  interventionsRecordSender,
  lockTimeIsExecutionStart,
  loopAgentPolicy,
  type LoopAgentPolicy,
  loopClosesInOneStep,
  loopFixes2026,
  type LoopFixes2026,
  loopPhaseSetWithChildStart,
  loopUpsertsOncePerBoundary,
  SESSION_MARKER_EPOCH,
  stopNowEndsRunsAtOnce,
  workingTreeShownAtEnd,
} from './patches.js';
import { agentSteps, durableFileSteps, fileSteps, type FileSteps, runStoppers } from './proxies.js';
import { LoopBest, LoopPhaseKey, LoopSession } from './search-attributes.js';
import { sessionWorkflow } from './session.js';
import type { SessionOutput } from './session-state.js';

/** An evidence error in the memo is a glance for `list` (the status has it whole): memo and visibility stay small. */
const MEMO_ERROR_CHARS = 300;

/** A human's answer to a pending decision, taken by approve or deny and applied at the boundary. */
export interface Answer {
  kind: 'approve' | 'deny';
  decision?: DecisionClass;
  note: string;
}

/** `earlier` without the attributes `later` sets, then `later`. */
function withLater(
  earlier: SearchAttributeUpdatePair[],
  later: SearchAttributeUpdatePair[],
): SearchAttributeUpdatePair[] {
  const names = new Set(later.map((p) => p.key.name));
  return [...earlier.filter((p) => !names.has(p.key.name)), ...later];
}

/** What the loop does after a session closes. */
export type AfterSession = { next: 'session' } | { next: 'finish'; reason: StopReason } | { next: 'continue-as-new' };

/**
 * One run of a loop (until it ends or continues as new): its state and the steps loopWorkflow takes
 * (frame lock, the boundary between sessions, a session, the end). Message handlers (loop-messages.ts)
 * only change this state; the workflow function acts on it between sessions.
 */
export class LoopRun {
  readonly config: LoopConfig;
  /** What `fixes-2026-12` gates in this run: asked first, so the run decides its version in its first activation. */
  readonly fixes: LoopFixes2026;
  /** What the agent-run policy markers gate in this run (asked right after the fixes). */
  readonly policy: LoopAgentPolicy;
  readonly loopId: string;
  readonly state: LoopCarry;
  readonly budget: LoopBudget;
  readonly notifier: LoopNotifier;
  phase: LoopPhase;
  child: ChildWorkflowHandle<typeof sessionWorkflow> | null = null;
  childSession = 0;
  stopReason: StopReason | null = null;
  pendingUntil: string | null = null;
  answer: Answer | null = null;
  /**
   * Where the signal being handled sits in history, set by its handler around the synchronous part
   * of its work (every human message records its intervention before its first await).
   */
  signalRef: SenderRef | null = null;
  private readonly signalsSeen = new Map<string, number>();
  /** Whether interventions record who sent them (the `intervention-identity` patch). */
  private readonly recordsSender: boolean;
  /** Human messages whose sender the next ledger write reads from history. */
  private unresolved: { item: Intervention; ref: SenderRef }[] = [];
  private readonly info: WorkflowInfo;
  private readonly localFiles: boolean;
  private readonly files: FileSteps;
  /** `one-step-close`: a session's close and its SUPERVISOR-DONE in one local activity. */
  private readonly closesInOneStep: boolean;
  /** `phase-at-child-start`: a session's `executing` goes out with its start, not when the start is confirmed. */
  private readonly phaseAtChildStart: boolean;
  /** The session whose workflow this run has asked to start and not yet seen started (`phase-at-child-start`). */
  private starting = false;
  /** `one-upsert-per-boundary`: a closed session's search attributes go out with the loop's next upsert. */
  private readonly upsertsOncePerBoundary: boolean;
  /** Search attributes set and not yet upserted (`one-upsert-per-boundary`). */
  private staged: SearchAttributeUpdatePair[] = [];
  /** `evidence-failure-breaker`, once asked in this run. */
  private evidenceFailuresTrip: boolean | undefined;

  constructor(private readonly input: LoopInput) {
    this.config = input.config;
    this.fixes = loopFixes2026();
    this.recordsSender = interventionsRecordSender();
    this.policy = loopAgentPolicy();
    this.closesInOneStep = loopClosesInOneStep();
    this.phaseAtChildStart = loopPhaseSetWithChildStart();
    // Staged attributes go out with the next session's start only where its `executing` is set there.
    this.upsertsOncePerBoundary = loopUpsertsOncePerBoundary() && this.phaseAtChildStart;
    this.info = workflowInfo();
    this.loopId = this.info.workflowId;
    this.localFiles = input.localFiles ?? true;
    this.files = fileSteps(this.config, this.localFiles);
    this.state = input.carry ?? initialCarry(this.config, this.lockTime(), input.redirects ?? []);
    // Carries from runs before a field existed lack it.
    this.state.budgetWarned ??= [];
    this.phase = input.carry ? 'pending' : 'framing';
    this.budget = new LoopBudget(this.state, this.fixes.extensionRefusesNewLimit);
    this.notifier = new LoopNotifier(
      this.config,
      this.loopId,
      this.localFiles,
      input.carry?.notices ?? [],
      () => ({ session: this.currentSession(), best: this.state.best?.value ?? null }),
      () => this.refresh(),
    );
  }

  /**
   * The frame-lock time must be the same in every attempt of the first workflow task: a worker that
   * dies after lockFrame wrote contract.json, before the task completed, has its task run again by
   * another worker, whose clock is later. The execution's start time (not runStartTime, which is the
   * activation's clock) is fixed in history.
   */
  private lockTime(): Date {
    return lockTimeIsExecutionStart() ? this.info.startTime : new Date();
  }

  /** A session's workflow is running or being started. */
  sessionRunning(): boolean {
    return this.child !== null || this.starting;
  }

  currentSession(): number {
    return this.child || this.starting ? this.childSession : this.state.nextSession - 1;
  }

  /** Sessions the session budget still lets start, the running one not counted. */
  sessionsLeftToStart(): number {
    return Math.max(0, this.state.budget.sessions - this.currentSession());
  }

  status(): LoopStatus {
    return loopStatus({
      loopId: this.loopId,
      config: this.config,
      state: this.state,
      phase: this.phase,
      session: this.currentSession(),
      childSession: this.childSession,
      pendingUntil: this.pendingUntil,
      stopReason: this.stopReason,
      notices: this.notifier.notices,
      now: new Date(),
    });
  }

  refresh(): void {
    setCurrentDetails(renderStatusCard(this.status()));
  }

  setPhase(next: LoopPhase): void {
    this.phase = next;
    this.upsert(this.phasePairs(next));
    this.refresh();
  }

  /** setPhase(), upserted with the loop's next upsert (`one-upsert-per-boundary`), or now before it. */
  private stagePhase(next: LoopPhase): void {
    this.phase = next;
    this.stage(this.phasePairs(next));
    this.refresh();
  }

  private phasePairs(phase: LoopPhase): SearchAttributeUpdatePair[] {
    return [
      { key: LoopPhaseKey, value: phase },
      { key: LoopSession, value: this.currentSession() },
    ];
  }

  /** One upsert of these attributes and the staged ones (these win where both set one). */
  private upsert(pairs: SearchAttributeUpdatePair[]): void {
    const all = withLater(this.staged, pairs);
    this.staged = [];
    if (all.length) upsertSearchAttributes(all);
  }

  /** Sets attributes with the loop's next upsert; each later value of an attribute replaces the staged one. */
  private stage(pairs: SearchAttributeUpdatePair[]): void {
    if (!this.upsertsOncePerBoundary) return this.upsert(pairs);
    this.staged = withLater(this.staged, pairs);
  }

  /** Upserts the staged attributes where the loop may wait long or ends without another upsert. */
  private flushStaged(): void {
    this.upsert([]);
  }

  /** Counts a signal of this name in this run: its place among them finds its sender in history. */
  countSignal(name: string): SenderRef {
    const nth = (this.signalsSeen.get(name) ?? 0) + 1;
    this.signalsSeen.set(name, nth);
    return { signal: name, nth };
  }

  /** Records a human message or an engine event in the ledger's interventions (written by ledgerNote). */
  intervene(kind: Intervention['kind'], note: string, via: Intervention['via']): Intervention {
    const item: Intervention = {
      at: new Date().toISOString(),
      kind,
      session: this.currentSession() || this.state.nextSession,
      note,
      via,
    };
    this.state.interventions = [...this.state.interventions, item].slice(-MAX_INTERVENTIONS);
    this.state.unreported.push(item);
    if (this.recordsSender) {
      const update = via === 'update' ? currentUpdateInfo() : undefined;
      const ref = update ? { update: update.id } : via === 'signal' ? this.signalRef : null;
      if (ref) this.unresolved.push({ item, ref });
    }
    this.refresh();
    return item;
  }

  /**
   * stop --now's direct path (`stop-now-ends-runs`): the running session's process trees on the
   * worker that takes this task are killed now, and the handler (which the loop's end waits for)
   * goes on once they are gone; the session's cancel still follows and ends the runs' activities as
   * before. A failure only loses the shortcut.
   */
  stopRunsNow(): Promise<void> {
    if (!this.child || !stopNowEndsRunsAtOnce()) return Promise.resolve();
    return runStoppers(this.config, this.localFiles)
      .stopRunsNow({ root: this.config.root, workflowId: this.child.workflowId })
      .then(
        () => undefined,
        () => undefined,
      );
  }

  /** SESSION_LEDGER.md; with who sent the messages since the last write, read from history first. */
  async ledgerNote(): Promise<void> {
    const { config, loopId: workflowId, state } = this;
    const asked = this.unresolved.splice(0).filter((u) => state.interventions.includes(u.item));
    if (!asked.length) {
      await this.files.recordIntervention({ config, workflowId, interventions: state.interventions });
      return;
    }
    const { by } = await durableFileSteps(config, this.localFiles).recordIntervention({
      config,
      workflowId,
      interventions: state.interventions,
      senders: asked.map((u) => ({ index: state.interventions.indexOf(u.item), ref: u.ref })),
    });
    asked.forEach((u, i) => {
      if (by[i]) u.item.by = by[i];
    });
    this.refresh();
  }

  /** A signal cannot be refused: one the loop cannot take is recorded as a rejected intervention. */
  reject(message: string, error: unknown): void {
    this.intervene('rejected', `${message}: ${error instanceof Error ? error.message : String(error)}`, 'signal');
  }

  /**
   * Frame lock (first run only): FRAME.md, contract.json, roster, baseline variant and metrics.
   * Returns why the loop ends when a failed baseline stops it (`evidence-failure-breaker`), else null.
   */
  async lockFrame(): Promise<StopReason | null> {
    const { config, state } = this;
    this.upsert([
      { key: LoopPhaseKey, value: 'framing' },
      { key: LoopSession, value: 0 },
    ]);
    const origin = this.input.forkedFrom;
    const notes = origin
      ? [
          `Forked from ${origin.workflowId} at session ${sessionLabel(origin.session)} (${origin.root}); its workspace is this loop's baseline${origin.value !== null ? ` (${config.evidence.metric} ${origin.value} there)` : ''}. Its ledger and decision are in loop_station/forked_from/.`,
        ]
      : [];
    if (origin) this.intervene('fork', notes[0]!, 'start');
    for (const note of this.input.redirects ?? []) this.intervene('redirect', note, 'start');
    await this.files.lockFrame({ config, workflowId: this.loopId, lockedAt: state.lockedAt, notes });
    let baseline = await this.measureBaseline();
    let ended: StopReason | null = null;
    // A baseline that gives nothing to go on waits for a human's fix (or stops the loop), then is measured again.
    for (
      let failure = evidenceFailure(baseline);
      failure !== null && this.policy.circuitBreaker && this.evidenceBreaker();
      failure = evidenceFailure(baseline)
    ) {
      ended = await this.baselineFailed(failure);
      if (ended) break;
      baseline = await this.measureBaseline();
    }
    await this.files.recordBaseline({ config, evidence: baseline, at: new Date().toISOString() });
    state.baseline = baseline.value;
    if (baseline.value !== null && baseline.error === null && baseline.protection.every((p) => p.pass)) {
      state.best = {
        session: 0,
        value: baseline.value,
        metrics: baseline.metrics,
        axis: null,
        variant: baselineVariantDir,
      };
      this.upsert([{ key: LoopBest, value: baseline.value }]);
    }
    if (!ended) this.setPhase('pending');
    return ended;
  }

  /** Runs the evidence command on the untouched workspace (session 000) and keeps its failure for the status. */
  private async measureBaseline(): Promise<EvidenceResult> {
    const { config } = this;
    const baseline = await agentSteps(config).runEvidence.executeWithOptions(
      {
        taskQueue: config.taskQueue,
        startToCloseTimeout: config.evidence.timeoutMs + 120_000,
        heartbeatTimeout: '15s',
        retry: { maximumAttempts: 3 },
        summary: 'baseline evidence (session 000)',
      },
      [{ root: config.root, session: 0, evidence: config.evidence, env: config.env }],
    );
    this.noteEvidence(0, baseline);
    return baseline;
  }

  /** Keeps an evidence run's failure for the status, or forgets an earlier one when this run succeeded. */
  private noteEvidence(session: number, evidence: EvidenceResult | null): void {
    if (evidence === null) return;
    const error = evidenceFailure(evidence);
    const before = this.state.evidenceError ?? null;
    const now = error === null ? null : { session, error };
    this.state.evidenceError = now;
    // `list` reads the memo, not the status: a new failure, or the end of one, goes there too.
    if ((before?.session !== now?.session || before?.error !== now?.error) && evidenceErrorInMemo())
      upsertMemo({ evidenceError: now ? { session, error: now.error.slice(0, MEMO_ERROR_CHARS) } : null });
    this.refresh();
  }

  /** Whether evidence failures pause or stop the loop (`evidence-failure-breaker`), asked once per run when one comes. */
  private evidenceBreaker(): boolean {
    this.evidenceFailuresTrip ??= evidenceFailuresTripBreaker();
    return this.evidenceFailuresTrip;
  }

  /**
   * A failed baseline, as the circuit breaker acts (spec onFailure.action): the loop stops (returns
   * `failed`), or pauses until `resume` (returns null: measure again) or a stop or the wall clock.
   */
  private async baselineFailed(failure: string): Promise<StopReason | null> {
    const { state } = this;
    const reason = `the baseline's evidence failed: ${failure}`;
    if (failurePolicy(this.config).onFailure.action === 'stop') {
      this.intervene('breaker', `${reason}: the loop stops`, 'engine');
      this.notifier.announce('blocked', `${reason}: the loop stops`, { session: 0 });
      await this.ledgerNote();
      return 'failed';
    }
    state.paused = true;
    state.pauseReason = `${reason}; fix it, then loop-station resume measures the baseline again`;
    this.intervene('breaker', `${reason}: the loop pauses`, 'engine');
    this.notifier.announce('blocked', `${reason}: the loop pauses until loop-station resume`, { session: 0 });
    await this.ledgerNote();
    this.setPhase('paused');
    if (!(await this.budget.waitFor(() => !state.paused))) return 'budget_wall_clock';
    if (state.stop) return (state.stop as SessionStop).reason;
    this.setPhase('framing');
    return null;
  }

  /**
   * The boundary before a session: a pending approval is answered and applied, then a stop, a pause
   * and the budgets are checked. Returns why the loop ends, or null to start the next session.
   */
  async atBoundary(): Promise<StopReason | null> {
    const { state } = this;
    if (state.approval) {
      this.setPhase('awaiting_approval');
      const waited = await this.waitForAnswer();
      if (waited === 'budget') return 'budget_wall_clock';
      if (state.stop && !this.answer) return 'user_stop';
      const pending = state.approval;
      const given = this.answer!;
      this.answer = null;
      state.approval = null;
      const applied = applyHumanAnswer({
        decision: pending.decision,
        onApprove: pending.onApprove,
        onDeny: pending.onDeny,
        stopReasonOnApprove: pending.stopReasonOnApprove,
        answer: given,
        axes: state.axes,
        axis: state.previous?.block.axis ?? null,
        version: this.fixes.decisionVersion,
      });
      state.axes = applied.axes;
      if (state.previous) state.previous = { ...state.previous, applied: applied.applied };
      // An approved promote makes the held candidate the best now (it was not the best while pending).
      const held = pending.candidate;
      if (
        this.fixes.heldPromoteBecomesBestWhenApproved &&
        DECISION_TRAITS[applied.applied].makesBest &&
        held &&
        held.session !== state.best?.session
      ) {
        state.best = held;
        this.upsert([{ key: LoopBest, value: held.value }]);
        this.notifier.announce(
          'new_best',
          `new best ${this.config.evidence.metric} ${held.value} at session ${sessionLabel(pending.session)} (approved)`,
          { session: pending.session, value: held.value },
        );
      }
      if (heldAnswerRecorded()) {
        // What the answer made of the held class, beside it in the history (status, the result).
        // leaderboard.csv keeps its one row per session, written when the session closed.
        const entry = state.history.find((h) => h.session === pending.session);
        if (entry) entry.answer = { kind: given.kind === 'approve' ? 'approved' : 'denied', applied: applied.applied };
      }
      if (DECISION_TRAITS[applied.applied].endsLoop) return applied.stopReason;
    }
    if (state.stop) return state.stop.reason;
    if (state.paused) {
      this.setPhase('paused');
      if (!(await this.budget.waitFor(() => !state.paused))) return 'budget_wall_clock';
      if (state.stop) return (state.stop as SessionStop).reason;
    }
    return this.budget.spent(new Date().getTime());
  }

  /**
   * Waits for a human's answer to the pending decision, a stop, or the wall clock. A question whose
   * approve stops the loop early (an agent's stop, every success criterion met) waits at most
   * `askTimeout`, then is answered as the spec says: `continue` denies, `stop` approves.
   */
  private async waitForAnswer(): Promise<'answered' | 'budget'> {
    const pending = this.state.approval!;
    const ask = failurePolicy(this.config).askTimeout;
    const early = (pending.onApprove ?? pending.decision) === 'stop';
    if (!this.policy.askTimeout || !ask || !early)
      return (await this.budget.waitFor(() => this.answer !== null)) ? 'answered' : 'budget';
    const until = new Date().getTime() + ask.afterMs;
    const wall = this.budget.deadline();
    if (await this.budget.waitFor(() => this.answer !== null, until)) return 'answered';
    if (wall !== null && wall <= until) return 'budget';
    const then = ask.then === 'stop' ? 'stop (as approved)' : 'continue (as denied)';
    this.answer = { kind: ask.then === 'stop' ? 'approve' : 'deny', note: `no answer within askTimeout: ${then}` };
    this.intervene(
      'ask_timeout',
      `session ${sessionLabel(pending.session)} asked to ${pending.decision === 'ask_user' ? 'stop' : pending.decision} and got no answer within ${Math.round(ask.afterMs / 1000)} s: ${then}`,
      'engine',
    );
    await this.ledgerNote();
    return 'answered';
  }

  /** Runs session N as a child workflow, writes its close, and takes its result into the loop's state. */
  async runSession(): Promise<AfterSession> {
    const { config, state } = this;
    const session = state.nextSession;
    this.childSession = session;
    const redirects = state.redirects.splice(0);
    const reported = state.unreported.splice(0);
    if (this.phaseAtChildStart) {
      this.starting = true;
      this.setPhase('executing');
    }
    try {
      this.child = await startChild(sessionWorkflow, {
        workflowId: `${this.loopId}/session-${sessionLabel(session)}`,
        taskQueue: this.info.taskQueue,
        staticSummary: `session ${session}`,
        args: [
          {
            config,
            loopId: this.loopId,
            lockedAt: state.lockedAt,
            session,
            seq: state.seq,
            best: state.best,
            axes: state.axes,
            previous: state.previous,
            recent: state.recent,
            redirects,
            interventions: reported,
            usage: state.usage,
            budget: state.budget,
            loopStartedAtMs: state.startedAtMs,
            stop: state.stop,
            successAskedFor: state.successAskedFor,
            amendments: state.amendments,
            runsSinceCheckpoint: state.runs,
            localFiles: this.localFiles,
            ...(state.threads ? { threads: state.threads } : {}),
            markerEpoch: SESSION_MARKER_EPOCH,
          },
        ],
      });
    } finally {
      this.starting = false;
    }
    if (!this.phaseAtChildStart) this.setPhase('executing');
    const out = await this.child.result();
    this.child = null;
    if (out.closing) {
      // The session's close (decision.md, leaderboard, summaries, SUPERVISOR-DONE), written from the
      // result Temporal recorded, before anything of session N+1 (SessionOutput.closing says why here).
      // A checkpoint also before continue-as-new; a pending approval may yet delay it.
      const continuing = state.runs + 1 >= config.continueAsNewEvery || workflowInfo().continueAsNewSuggested;
      // decision.md lists what came before the session and during it (a stop, a redirect, a usage wait).
      const during = this.fixes.decisionListsInterventionsDuringSession ? state.unreported.splice(0) : [];
      const closeInput = {
        config,
        workflowId: this.loopId,
        session,
        record: out.record,
        recent: state.recent,
        best: out.best,
        axes: out.axes,
        redirects,
        rows: out.closing.rows,
        usage: out.usage,
        elapsedMs: out.closing.elapsedMs,
        budget: state.budget,
        interventions: [...reported, ...during],
        ledgerInterventions: state.interventions,
        checkpoint: session % config.compactEvery === 0 || continuing,
      };
      const done = { ...out.closing.flag, rows: out.closing.rows };
      if (this.closesInOneStep)
        await this.files.fileBatch({
          root: config.root,
          steps: [
            { step: 'closeSession', input: closeInput },
            { step: 'emitFlag', input: done },
          ],
        });
      else {
        await this.files.closeSession(closeInput);
        await this.files.emitFlag(done);
      }
    }
    return this.afterSession(session, out);
  }

  /** Takes a closed session's result into the state, tells the world, and says what comes next. */
  private async afterSession(session: number, out: SessionOutput): Promise<AfterSession> {
    const { config, state } = this;
    const block = out.record.decision;
    const bestBefore = state.best?.session ?? null;
    state.nextSession = session + 1;
    state.seq = out.seq;
    state.best = out.best;
    state.axes = out.axes;
    state.usage = out.usage;
    state.successAskedFor = out.successAskedFor;
    state.previous = { block, applied: block.class };
    state.recent = [...state.recent, out.record].slice(-RECENT_RECORDS);
    state.history.push({ session, class: block.class, value: block.value, best: state.best?.value ?? null });
    state.runs += 1;
    if (out.threads) state.threads = out.threads;
    state.blocked = null;
    this.noteEvidence(session, out.record.evidence);
    if (state.best) this.stage([{ key: LoopBest, value: state.best.value }]);
    if (state.unreported.length) await this.ledgerNote();
    this.stagePhase('closed');
    this.announceSession(session, bestBefore, block);
    for (const message of this.budget.newWarnings(new Date().getTime())) {
      this.notifier.announce('budget_80', message);
      this.intervene('budget_warning', message, 'engine');
    }
    if (state.unreported.length && budgetWarningsReachLedgerAtOnce()) await this.ledgerNote();

    if (DECISION_TRAITS[block.class].endsLoop) return { next: 'finish', reason: block.stop_reason ?? 'failed' };
    if (this.policy.circuitBreaker && (await this.circuitBreaker(session, out)))
      return { next: 'finish', reason: 'failed' };
    if (block.approval === 'pending') {
      state.approval = {
        session,
        decision: block.class,
        onApprove: block.on_approve,
        onDeny: block.on_deny,
        stopReasonOnApprove: out.stopReasonOnApprove,
        candidate: out.candidate ?? null,
      };
      return { next: 'session' };
    }
    if (state.runs >= config.continueAsNewEvery || workflowInfo().continueAsNewSuggested)
      return { next: 'continue-as-new' };
    return { next: 'session' };
  }

  /**
   * The circuit breaker (spec onFailure): after `consecutive` sessions whose executor ended BLOCKED
   * or TIMEOUT the same way, the loop pauses (resume after the fix) or stops (true); the pause or
   * stop names the failure in the status, the ledger and a `blocked` notification.
   */
  private async circuitBreaker(session: number, out: SessionOutput): Promise<boolean> {
    const { state } = this;
    const { consecutive, action } = failurePolicy(this.config).onFailure;
    const failure = sessionFailure(out.record.executor) ?? this.evidenceFailureOf(out);
    const advanced = advanceBreaker(state.breaker ?? BREAKER_CLOSED, failure, consecutive);
    state.breaker = advanced.state;
    if (!advanced.trips) return false;
    const reason = `circuit breaker: ${advanced.state.count} sessions in a row (to ${sessionLabel(session)}) ended ${failure}`;
    state.breaker = BREAKER_CLOSED;
    if (action === 'stop') {
      this.intervene('breaker', `${reason}: the loop stops`, 'engine');
      this.notifier.announce('blocked', `${reason}: the loop stops`, { session });
    } else {
      state.paused = true;
      state.pauseReason = `${reason}; fix the cause, then loop-station resume`;
      this.intervene('breaker', `${reason}: the loop pauses`, 'engine');
      this.notifier.announce('blocked', `${reason}: the loop pauses until loop-station resume`, { session });
    }
    await this.ledgerNote();
    return action === 'stop';
  }

  /** A session's evidence failure as the breaker counts it (`evidence-failure-breaker`), else null. */
  private evidenceFailureOf(out: SessionOutput): string | null {
    const failure = evidenceFailure(out.record.evidence);
    return failure !== null && this.evidenceBreaker() ? `with its evidence failing (${failure})` : null;
  }

  private announceSession(
    session: number,
    bestBefore: number | null,
    block: SessionOutput['record']['decision'],
  ): void {
    const { notifier, state } = this;
    const label = sessionLabel(session);
    notifier.announce('decision_made', `session ${label}: ${block.class}${block.reason ? ` (${block.reason})` : ''}`, {
      session,
      value: block.value,
      decision: block.class,
    });
    if (state.best && state.best.session !== bestBefore)
      notifier.announce('new_best', `new best ${this.config.evidence.metric} ${state.best.value} at session ${label}`, {
        session,
        value: state.best.value,
      });
    if (DECISION_TRAITS[block.class].announcesPlateau)
      notifier.announce('plateau', `session ${label}: ${block.class} on axis ${block.axis ?? 'default'}`, {
        session,
        decision: block.class,
      });
    if (block.approval === 'pending')
      notifier.announce(
        'blocked_on_approval',
        `session ${label} decided ${block.class} and waits for approve or deny`,
        { session, decision: block.class },
      );
  }

  /** Ends the loop: FINAL_SUMMARY.md and the result, once every handler and notification is done. */
  async finish(reason: StopReason): Promise<LoopResult> {
    const { config, state } = this;
    // An update handler still writing the ledger (approve, stop…) finishes first: its client gets its answer.
    if (!allHandlersFinished()) this.flushStaged();
    await condition(allHandlersFinished);
    this.stopReason = reason;
    this.setPhase('finished');
    this.notifier.announce('loop_ended', `ended: ${reason} after ${state.nextSession - 1} sessions`, {
      stopReason: reason,
      session: state.nextSession - 1,
    });
    await this.notifier.allSent();
    const summary = await this.files.finishLoop({
      config,
      workflowId: this.loopId,
      stopReason: reason,
      stoppedAt: new Date().toISOString(),
      best: state.best,
      baseline: state.baseline,
      usage: state.usage,
      elapsedMs: this.budget.used(new Date().getTime()).wallClockMs,
      sessionsUsed: state.nextSession - 1,
      interventions: state.interventions,
      recent: state.recent,
      axes: state.axes,
      evidenceError: state.evidenceError ?? null,
    });
    // `status` of the ended loop says when the working tree is not the best's, and how to restore it.
    const tree = summary.workingTree ? workingTreeLine(summary.workingTree) : null;
    if (tree !== null && workingTreeShownAtEnd()) this.notifier.notices.push(tree);
    return {
      workflowId: this.loopId,
      stopReason: reason,
      sessions: state.nextSession - 1,
      best: state.best ? { session: state.best.session, value: state.best.value } : null,
      baseline: state.baseline,
      history: state.history,
      interventions: state.interventions,
      usage: { tokens: this.budget.used(new Date().getTime()).tokens, costUsd: state.usage.costUsd },
      finalSummary: summary.path,
    };
  }

  /** Readies continue-as-new: handlers finish, notifications go out; returns the next run's input. */
  async carryOver(): Promise<LoopInput> {
    // The next run starts with this run's search attributes: the staged ones go out first.
    this.flushStaged();
    // Handlers finish first; memo and search attributes carry over, current details are set anew.
    await condition(allHandlersFinished);
    // Notifications still on their way go out first; their failures travel with the state.
    if (this.fixes.notificationsSentBeforeContinueAsNew) await this.notifier.allSent();
    const notices = this.fixes.notificationsSentBeforeContinueAsNew
      ? { notices: this.notifier.notices.slice(-MAX_NOTICES) }
      : {};
    return { config: this.config, carry: { ...this.state, runs: 0, ...notices }, localFiles: this.localFiles };
  }
}
