import {
  type ChildWorkflowHandle, allHandlersFinished, condition, makeContinueAsNewFunc, patched, setCurrentDetails, setHandler,
  startChild, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { baselineVariantDir, sessionLabel } from '../protocol/layout.js';
import { applyHumanAnswer } from '../protocol/session-decision.js';
import { parseDuration } from '../protocol/duration.js';
import type { LoopPhase, LoopResult, LoopStatus, SessionStop } from '../protocol/schemas/messages.js';
import type { Intervention } from '../protocol/schemas/state.js';
import type { DecisionClass, StopReason } from '../protocol/vocabulary.js';
import { renderStatusCard } from '../protocol/render/status-card.js';
import type { Notification, NotifyEvent } from '../protocol/schemas/notification.js';
import {
  approveUpdate, denyUpdate, extendBudgetUpdate, externalFlagSignal, pauseSignal, pauseUpdate, redirectSignal, redirectUpdate,
  resumeSignal, resumeUpdate, sessionBudgetSignal, sessionProgressSignal, sessionStopSignal, statusQuery, stopSignal, stopUpdate,
} from './messages.js';
import { externalFlagProblem } from '../protocol/external-flag-input.js';
import { fixes202612 } from './patches.js';
import { messageSchemas, parseMessage } from './message-schemas.js';
import { agentSteps, fileSteps, notifySteps } from './proxies.js';
import { LoopBest, LoopPhaseKey, LoopSession } from './search-attributes.js';
import { sessionWorkflow } from './session.js';
import { initialCarry, type LoopCarry, type LoopInput, loopStatus, MAX_INTERVENTIONS, MAX_NOTICES, RECENT_RECORDS, spentBudget, usedBudget } from './loop-state.js';

/**
 * One loop: frame lock, then numbered sessions as child workflows, one at a time, with budgets,
 * human messages and approvals handled at the session boundary (docs/protocol.md#canonical-order, step 9).
 */
export async function loopWorkflow(input: LoopInput): Promise<LoopResult> {
  const { config } = input;
  const v2 = fixes202612();
  const info = workflowInfo();
  const loopId = info.workflowId;
  const localFiles = input.localFiles ?? true;
  const files = fileSteps(config, localFiles);
  const now = () => new Date();
  // The frame-lock time must be the same in every attempt of the first workflow task: a worker that
  // dies after lockFrame wrote contract.json, before the task completed, has its task run again by
  // another worker, whose clock is later. The execution's start time (not runStartTime, which is the
  // activation's clock) is fixed in history.
  const lockTime = () => (patched('stable-lock-time') ? info.startTime : now());
  const state: LoopCarry = input.carry ?? initialCarry(config, lockTime(), input.redirects ?? []);
  // Carries from runs before a field existed lack it.
  state.budgetWarned ??= [];
  let phase: LoopPhase = input.carry ? 'pending' : 'framing';
  let child: ChildWorkflowHandle<typeof sessionWorkflow> | null = null;
  let childSession = 0;
  let stopReason: StopReason | null = null;
  let pendingUntil: string | null = null;
  let answer: { kind: 'approve' | 'deny'; decision?: DecisionClass; note: string } | null = null;

  const used = () => usedBudget(state, now().getTime());
  const currentSession = () => (child ? childSession : state.nextSession - 1);
  const status = (): LoopStatus => loopStatus({ loopId, config, state, phase, session: currentSession(), childSession, pendingUntil, stopReason, notices, now: now() });
  const refresh = () => {
    setCurrentDetails(renderStatusCard(status()));
  };
  const setPhase = (next: LoopPhase) => {
    phase = next;
    upsertSearchAttributes([{ key: LoopPhaseKey, value: next }, { key: LoopSession, value: currentSession() }]);
    refresh();
  };

  const intervene = (kind: Intervention['kind'], note: string, via: Intervention['via']) => {
    const item: Intervention = { at: now().toISOString(), kind, session: currentSession() || state.nextSession, note, via };
    state.interventions = [...state.interventions, item].slice(-MAX_INTERVENTIONS);
    state.unreported.push(item);
    refresh();
    return item;
  };
  const ledgerNote = async () => {
    await files.recordIntervention({ config, workflowId: loopId, interventions: state.interventions });
  };

  // Notifications never stall or fail the loop: sent beside it, a failing notifier becomes a warning.
  const notices: string[] = [...(input.carry?.notices ?? [])];
  // One after another, so receivers see events in the order they happened.
  let sent: Promise<void> = Promise.resolve();
  const notifier = notifySteps(localFiles, config);
  const announce = (event: NotifyEvent, message: string, extra: Partial<Pick<Notification, 'value' | 'decision' | 'stopReason' | 'session'>> = {}) => {
    const spec = config.notify;
    if (!spec || (spec.events && !spec.events.includes(event))) return;
    const body: Notification = {
      event, loop: loopId, name: config.name, session: extra.session ?? currentSession(), at: now().toISOString(), message,
      metric: config.evidence.metric, value: extra.value ?? null, best: state.best?.value ?? null, decision: extra.decision ?? null, stopReason: extra.stopReason ?? null,
    };
    sent = sent.then(() => notifier.notify({ notify: spec, root: config.root, event: body, env: config.env })).catch((error: unknown) => {
      notices.push(`${event} notification failed: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`);
      refresh();
    });
  };
  const warnBudget = () => {
    const u = used();
    const checks: [string, number, number | null][] = [['sessions', u.sessions, state.budget.sessions], ['tokens', u.tokens, state.budget.tokens], ['cost', u.costUsd, state.budget.costUsd], ['wall clock', u.wallClockMs, state.budget.wallClockMs]];
    for (const [what, spent, limit] of checks) {
      if (limit !== null && spent >= 0.8 * limit && !state.budgetWarned.includes(what)) {
        state.budgetWarned.push(what);
        const message = `${what} at ${Math.round((100 * spent) / limit)}% of the budget`;
        announce('budget_80', message);
        intervene('budget_warning', message, 'engine');
      }
    }
  };

  // Handlers are installed before the first await (an update arriving earlier would be rejected).
  setHandler(statusQuery, status);
  const requestStop = async (mode: 'now' | 'after-session', note: string, via: Intervention['via']) => {
    intervene('stop', `${mode}${note ? `: ${note}` : ''}`, via);
    if (!state.stop || (mode === 'now' && state.stop.mode !== 'now')) state.stop = { mode, reason: 'user_stop', note };
    if (child) await child.signal(sessionStopSignal, state.stop);
    await ledgerNote();
  };
  // Without a payload (the UI's signal button, a bare `temporal workflow signal`), a stop waits for the session's close.
  const stopPayload = (raw: unknown) => (raw === undefined || raw === null) && v2 ? {} : raw;
  const stopCheck = (raw: unknown) => {
    const parsed = parseMessage(messageSchemas().StopInputSchema, stopPayload(raw));
    if (stopReason) throw new Error(`loop ${loopId} has already ended (${stopReason})`);
    if (state.stop && (state.stop.mode === 'now' || parsed.mode !== 'now')) throw new Error(`a stop (${state.stop.mode}) is already pending`);
    return parsed;
  };
  setHandler(stopUpdate, async (raw) => {
    const parsed = messageSchemas().StopInputSchema.parse(stopPayload(raw));
    await requestStop(parsed.mode, parsed.reason, 'update');
    return { accepted: true, message: parsed.mode === 'now' ? 'stopping now: the running agent is cancelled' : 'stopping after the current session closes' };
  }, { validator: (raw) => void stopCheck(raw), description: 'Stop the loop: {mode: now|after-session, reason}' });

  const redirect = async (note: string, via: Intervention['via']) => {
    intervene('redirect', note, via);
    state.redirects.push(note);
    await ledgerNote();
  };
  setHandler(redirectUpdate, async (raw) => {
    const { note } = messageSchemas().RedirectInputSchema.parse(raw);
    await redirect(note, 'update');
    return { accepted: true, message: `the next executor prompt and EXECUTOR_BRIEF.md will carry: ${note}` };
  }, { validator: (raw) => void parseMessage(messageSchemas().RedirectInputSchema, raw), description: 'Redirect the next sessions: {note}' });

  const pauseCheck = (want: boolean) => {
    if (stopReason) throw new Error(`loop ${loopId} has already ended (${stopReason})`);
    if (state.paused === want) throw new Error(want ? 'the loop is already paused' : 'the loop is not paused');
  };
  const setPaused = async (want: boolean, note: string, via: Intervention['via']) => {
    state.paused = want;
    intervene(want ? 'pause' : 'resume', note, via);
    if (want && !child && !state.approval) setPhase('paused');
    await ledgerNote();
  };
  setHandler(pauseUpdate, async (raw) => {
    const { note } = messageSchemas().PauseInputSchema.parse(raw ?? {});
    await setPaused(true, note, 'update');
    return { accepted: true, message: child ? `paused: session ${sessionLabel(childSession)} finishes, then no new session starts` : 'paused' };
  }, { validator: (raw) => { parseMessage(messageSchemas().PauseInputSchema, raw ?? {}); pauseCheck(true); }, description: 'Pause: no new session starts' });
  setHandler(resumeUpdate, async (raw) => {
    const { note } = messageSchemas().PauseInputSchema.parse(raw ?? {});
    await setPaused(false, note, 'update');
    return { accepted: true, message: 'resumed' };
  }, { validator: (raw) => { parseMessage(messageSchemas().PauseInputSchema, raw ?? {}); pauseCheck(false); }, description: 'Resume a paused loop' });

  const approvalCheck = (session: number, decision?: DecisionClass) => {
    if (!state.approval) throw new Error('nothing waits for approval');
    if (state.approval.session !== session) throw new Error(`session ${session} does not wait for approval; session ${state.approval.session} does`);
    if (!v2) return;
    if (answer) throw new Error(`session ${session} already has an answer (${answer.kind}); it takes effect before the next session starts`);
    const promoting = decision === 'promote' || (decision === undefined && (state.approval.onApprove ?? state.approval.decision) === 'promote');
    if (promoting && !state.approval.candidate) {
      throw new Error(`session ${session} has no candidate to promote: its executor did not finish, its evidence gave no value, or protection failed`);
    }
  };
  setHandler(approveUpdate, async (raw) => {
    const parsed = messageSchemas().ApproveInputSchema.parse(raw);
    answer = { kind: 'approve', note: parsed.note, ...(parsed.decision ? { decision: parsed.decision } : {}) };
    intervene('approve', `session ${parsed.session}${parsed.decision ? ` as ${parsed.decision}` : ''}${parsed.note ? `: ${parsed.note}` : ''}`, 'update');
    await ledgerNote();
    return { accepted: true, message: `approved session ${parsed.session}` };
  }, {
    validator: (raw) => {
      const parsed = parseMessage(messageSchemas().ApproveInputSchema, raw);
      approvalCheck(parsed.session, parsed.decision);
    },
    description: 'Approve a pending decision: {session, decision?, note?}',
  });
  setHandler(denyUpdate, async (raw) => {
    const parsed = messageSchemas().DenyInputSchema.parse(raw);
    answer = { kind: 'deny', note: parsed.note };
    intervene('deny', `session ${parsed.session}${parsed.note ? `: ${parsed.note}` : ''}`, 'update');
    await ledgerNote();
    return { accepted: true, message: `denied session ${parsed.session}` };
  }, { validator: (raw) => approvalCheck(parseMessage(messageSchemas().DenyInputSchema, raw).session), description: 'Deny a pending decision: {session, note?}' });

  const extendCheck = (raw: unknown) => {
    const parsed = parseMessage(messageSchemas().ExtendBudgetInputSchema, raw);
    const b = state.budget;
    const issues: string[] = [];
    // A limit where there was none would cut the budget, not raise it.
    const unlimited = (name: string, given: unknown, current: number | null) => {
      if (v2 && given !== undefined && current === null) issues.push(`${name}: the loop has no ${name} limit, so setting one would lower its budget`);
    };
    unlimited('wallClock', parsed.wallClock, b.wallClockMs);
    unlimited('tokens', parsed.tokens, b.tokens);
    unlimited('costUsd', parsed.costUsd, b.costUsd);
    if (parsed.sessions !== undefined && parsed.sessions <= b.sessions) issues.push(`sessions ${parsed.sessions} is not more than the current ${b.sessions}`);
    const wall = parsed.wallClock !== undefined ? parseDuration(parsed.wallClock)! : undefined;
    if (wall !== undefined && b.wallClockMs !== null && wall <= b.wallClockMs) issues.push(`wallClock ${parsed.wallClock} is not more than the current ${b.wallClockMs / 1000}s`);
    if (parsed.tokens !== undefined && b.tokens !== null && parsed.tokens <= b.tokens) issues.push(`tokens ${parsed.tokens} is not more than the current ${b.tokens}`);
    if (parsed.costUsd !== undefined && b.costUsd !== null && parsed.costUsd <= b.costUsd) issues.push(`costUsd ${parsed.costUsd} is not more than the current ${b.costUsd}`);
    if (issues.length) throw new Error(`extendBudget only raises a budget: ${issues.join('; ')}`);
    return { parsed, wall };
  };
  setHandler(extendBudgetUpdate, async (raw) => {
    const { parsed, wall } = extendCheck(raw);
    const at = now().toISOString();
    const change = (field: string, before: number | null, after: number | undefined) => {
      if (after === undefined) return;
      state.amendments.push({ at, session: currentSession(), kind: 'extendBudget', field, before, after, note: parsed.note });
    };
    change('budget.max_sessions', state.budget.sessions, parsed.sessions);
    change('budget.wall_time_limit_ms', state.budget.wallClockMs, wall);
    change('budget.token_limit', state.budget.tokens, parsed.tokens);
    change('budget.cost_limit', state.budget.costUsd, parsed.costUsd);
    state.budget = {
      sessions: parsed.sessions ?? state.budget.sessions,
      wallClockMs: wall ?? state.budget.wallClockMs,
      tokens: parsed.tokens ?? state.budget.tokens,
      costUsd: parsed.costUsd ?? state.budget.costUsd,
    };
    intervene('extendBudget', JSON.stringify({ sessions: parsed.sessions, wallClock: parsed.wallClock, tokens: parsed.tokens, costUsd: parsed.costUsd, note: parsed.note || undefined }), 'update');
    // The running session holds the budget it started with: its wall-clock timer and decision follow the new one.
    if (v2 && child) await child.signal(sessionBudgetSignal, state.budget);
    await ledgerNote();
    return { accepted: true, message: `budget now ${JSON.stringify(state.budget)}` };
  }, { validator: (raw) => void extendCheck(raw), description: 'Raise a budget: {sessions?, wallClock?, tokens?, costUsd?, note?}' });

  // The same four as signals: a signal cannot be refused, so a bad one is recorded as rejected.
  const viaSignal = (kind: string, run: () => Promise<void>) => {
    void run().catch((error: unknown) => {
      intervene('rejected', `${kind}: ${messageSchemas().messageErrorText(error)}`, 'signal');
    });
  };
  setHandler(stopSignal, (raw) => viaSignal('stop', async () => {
    const parsed = stopCheck(raw);
    await requestStop(parsed.mode, parsed.reason, 'signal');
  }));
  setHandler(redirectSignal, (raw) => viaSignal('redirect', async () => redirect(parseMessage(messageSchemas().RedirectInputSchema, raw).note, 'signal')));
  setHandler(pauseSignal, (raw) => viaSignal('pause', async () => {
    pauseCheck(true);
    await setPaused(true, parseMessage(messageSchemas().PauseInputSchema, raw ?? {}).note, 'signal');
  }));
  setHandler(resumeSignal, (raw) => viaSignal('resume', async () => {
    pauseCheck(false);
    await setPaused(false, parseMessage(messageSchemas().PauseInputSchema, raw ?? {}).note, 'signal');
  }));
  setHandler(externalFlagSignal, async (payload) => {
    // Anyone can send this signal (`temporal workflow signal`): a bad payload must not reach the session.
    const problem = v2 ? externalFlagProblem(payload) : null;
    if (problem !== null) {
      intervene('rejected', `externalFlag: ${problem}`, 'signal');
      return;
    }
    if (child) await child.signal(externalFlagSignal, payload);
  });
  setHandler(sessionProgressSignal, async ({ session, phase: next, until }) => {
    if (session !== childSession) return;
    pendingUntil = until ?? null;
    setPhase(next);
    if (next === 'review') announce('review_ready', `session ${sessionLabel(session)} is ready for review`, { session });
    if (next === 'usage_wait') {
      const message = `session ${sessionLabel(session)} waits for a usage reset until ${until ?? 'a backoff ends'}`;
      announce('usage_wait', message, { session });
      // An overnight wait belongs in the ledger, where people look in the morning (v2).
      if (v2) {
        intervene('usage_wait', message, 'engine');
        await ledgerNote();
      }
    }
  });

  refresh();

  // Frame lock (first run only): FRAME.md, contract.json, roster, baseline variant and metrics.
  if (!input.carry) {
    upsertSearchAttributes([{ key: LoopPhaseKey, value: 'framing' }, { key: LoopSession, value: 0 }]);
    const origin = input.forkedFrom;
    const notes = origin ? [`Forked from ${origin.workflowId} at session ${sessionLabel(origin.session)} (${origin.root}); its workspace is this loop's baseline${origin.value !== null ? ` (${config.evidence.metric} ${origin.value} there)` : ''}. Its ledger and decision are in loop_station/forked_from/.`] : [];
    if (origin) intervene('fork', notes[0]!, 'start');
    for (const note of input.redirects ?? []) intervene('redirect', note, 'start');
    await files.lockFrame({ config, workflowId: loopId, lockedAt: state.lockedAt, notes });
    const baseline = await agentSteps(config).runEvidence.executeWithOptions(
      { taskQueue: config.taskQueue, startToCloseTimeout: config.evidence.timeoutMs + 120_000, heartbeatTimeout: '15s', retry: { maximumAttempts: 3 }, summary: 'baseline evidence (session 000)' },
      [{ root: config.root, session: 0, evidence: config.evidence, env: config.env }],
    );
    await files.recordBaseline({ config, evidence: baseline, at: now().toISOString() });
    state.baseline = baseline.value;
    if (baseline.value !== null && baseline.error === null && baseline.protection.every((p) => p.pass)) {
      state.best = { session: 0, value: baseline.value, metrics: baseline.metrics, axis: null, variant: baselineVariantDir };
      upsertSearchAttributes([{ key: LoopBest, value: baseline.value }]);
    }
    setPhase('pending');
  }

  const finish = async (reason: StopReason): Promise<LoopResult> => {
    // An update handler still writing the ledger (approve, stop…) finishes first: its client gets its answer.
    await condition(allHandlersFinished);
    stopReason = reason;
    setPhase('finished');
    announce('loop_ended', `ended: ${reason} after ${state.nextSession - 1} sessions`, { stopReason: reason, session: state.nextSession - 1 });
    await sent;
    const summary = await files.finishLoop({
      config, workflowId: loopId, stopReason: reason, stoppedAt: now().toISOString(), best: state.best, baseline: state.baseline,
      usage: state.usage, elapsedMs: used().wallClockMs, sessionsUsed: state.nextSession - 1, interventions: state.interventions, recent: state.recent,
      axes: state.axes,
    });
    return {
      workflowId: loopId, stopReason: reason, sessions: state.nextSession - 1,
      best: state.best ? { session: state.best.session, value: state.best.value } : null, baseline: state.baseline,
      history: state.history, interventions: state.interventions, usage: { tokens: used().tokens, costUsd: state.usage.costUsd }, finalSummary: summary.path,
    };
  };
  const deadline = () => (state.budget.wallClockMs === null ? null : state.startedAtMs + state.budget.wallClockMs);
  /** Waits for `ready` or a stop, bounded by the wall-clock budget; false when the budget ran out. */
  const waitFor = async (ready: () => boolean): Promise<boolean> => {
    const d = deadline();
    if (d === null) {
      await condition(() => ready() || state.stop !== null);
      return true;
    }
    return condition(() => ready() || state.stop !== null, Math.max(1, d - now().getTime()));
  };

  for (;;) {
    // Boundary (docs/protocol.md#canonical-order, step 9): approvals, pause, stop and budgets, then session N+1.
    if (state.approval) {
      setPhase('awaiting_approval');
      if (!(await waitFor(() => answer !== null))) return finish('budget_wall_clock');
      if (state.stop && !answer) return finish('user_stop');
      const pending = state.approval;
      const given = answer!;
      answer = null;
      state.approval = null;
      const applied = applyHumanAnswer({
        decision: pending.decision, onApprove: pending.onApprove, onDeny: pending.onDeny, stopReasonOnApprove: pending.stopReasonOnApprove,
        answer: given, axes: state.axes, axis: state.previous?.block.axis ?? null, version: v2 ? 2 : 1,
      });
      state.axes = applied.axes;
      if (state.previous) state.previous = { ...state.previous, applied: applied.applied };
      // An approved promote makes the held candidate the best now (v2: it was not the best while pending).
      if (v2 && applied.applied === 'promote' && pending.candidate && pending.candidate.session !== state.best?.session) {
        state.best = pending.candidate;
        upsertSearchAttributes([{ key: LoopBest, value: state.best.value }]);
        announce('new_best', `new best ${config.evidence.metric} ${state.best.value} at session ${sessionLabel(pending.session)} (approved)`, { session: pending.session, value: state.best.value });
      }
      if (applied.applied === 'stop') return finish(applied.stopReason);
    }
    if (state.stop) return finish(state.stop.reason);
    if (state.paused) {
      setPhase('paused');
      if (!(await waitFor(() => !state.paused))) return finish('budget_wall_clock');
      if (state.stop) return finish((state.stop as SessionStop).reason);
    }
    const exhausted = spentBudget(state, now().getTime());
    if (exhausted) return finish(exhausted);

    const session = state.nextSession;
    childSession = session;
    const redirects = state.redirects.splice(0);
    const reported = state.unreported.splice(0);
    child = await startChild(sessionWorkflow, {
      workflowId: `${loopId}/session-${sessionLabel(session)}`,
      taskQueue: info.taskQueue,
      staticSummary: `session ${session}`,
      args: [{
        config, loopId, lockedAt: state.lockedAt, session, seq: state.seq, best: state.best, axes: state.axes, previous: state.previous,
        recent: state.recent, redirects, interventions: reported, usage: state.usage, budget: state.budget, loopStartedAtMs: state.startedAtMs,
        stop: state.stop, successAskedFor: state.successAskedFor, amendments: state.amendments, runsSinceCheckpoint: state.runs, localFiles,
      }],
    });
    setPhase('executing');
    const out = await child.result();
    child = null;
    if (out.closing) {
      // The session's close (decision.md, leaderboard, summaries, SUPERVISOR-DONE), written from the
      // result Temporal recorded, before anything of session N+1 (SessionOutput.closing says why here).
      // A checkpoint also before continue-as-new (docs/protocol.md#checkpoints); a pending approval may yet delay it.
      const continuing = state.runs + 1 >= config.continueAsNewEvery || workflowInfo().continueAsNewSuggested;
      // decision.md lists what came before the session and during it (a stop, a redirect, a usage wait).
      const during = v2 ? state.unreported.splice(0) : [];
      await files.closeSession({
        config, workflowId: loopId, session, record: out.record, recent: state.recent, best: out.best, axes: out.axes, redirects,
        rows: out.closing.rows, usage: out.usage, elapsedMs: out.closing.elapsedMs, budget: state.budget, interventions: [...reported, ...during],
        ledgerInterventions: state.interventions, checkpoint: session % config.compactEvery === 0 || continuing,
      });
      await files.emitFlag({ ...out.closing.flag, rows: out.closing.rows });
    }
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
    if (state.best) upsertSearchAttributes([{ key: LoopBest, value: state.best.value }]);
    if (state.unreported.length) await ledgerNote();
    setPhase('closed');
    announce('decision_made', `session ${sessionLabel(session)}: ${block.class}${block.reason ? ` (${block.reason})` : ''}`, { session, value: block.value, decision: block.class });
    if (state.best && state.best.session !== bestBefore) announce('new_best', `new best ${config.evidence.metric} ${state.best.value} at session ${sessionLabel(session)}`, { session, value: state.best.value });
    if (block.class === 'pivot_axis' || block.class === 'retire') announce('plateau', `session ${sessionLabel(session)}: ${block.class} on axis ${block.axis ?? 'default'}`, { session, decision: block.class });
    if (block.approval === 'pending') announce('blocked_on_approval', `session ${sessionLabel(session)} decided ${block.class} and waits for approve or deny`, { session, decision: block.class });
    warnBudget();
    // Budget warnings reach the ledger at once; runs recorded before this step existed replay without it.
    if (state.unreported.length && patched('budget-warning-ledger')) await ledgerNote();

    if (block.class === 'stop') return finish(block.stop_reason ?? 'failed');
    if (block.approval === 'pending') {
      state.approval = { session, decision: block.class, onApprove: block.on_approve, onDeny: block.on_deny, stopReasonOnApprove: out.stopReasonOnApprove, candidate: out.candidate ?? null };
      continue;
    }
    if (state.runs >= config.continueAsNewEvery || workflowInfo().continueAsNewSuggested) {
      // Handlers finish first; memo and search attributes carry over, current details are set anew.
      await condition(allHandlersFinished);
      // Notifications still on their way go out first; their failures travel with the state.
      if (v2) await sent;
      const next = makeContinueAsNewFunc<typeof loopWorkflow>({ memo: workflowInfo().memo });
      return next({ config, carry: { ...state, runs: 0, ...(v2 ? { notices: notices.slice(-MAX_NOTICES) } : {}) }, localFiles });
    }
  }
}
