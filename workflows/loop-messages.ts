import { setDefaultSignalHandler, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { memoFollowsExtend, unknownSignalsRecorded } from './patches.js';
import { DECISION_TRAITS } from '../protocol/decision-traits.js';
import { externalFlagProblem } from '../protocol/external-flag-input.js';
import { sessionLabel } from '../protocol/layout.js';
import type { ExternalFlagInput, RunEvent, SessionProgress } from '../protocol/schemas/messages.js';
import type { Intervention } from '../protocol/schemas/state.js';
import type { DecisionClass } from '../protocol/vocabulary.js';
import type { Extension } from './loop-budget.js';
import { limitsText } from '../protocol/budget.js';
import type { LoopRun } from './loop-run.js';
import { messageSchemas, parseMessage } from './message-schemas.js';
import {
  approveMessage,
  denyMessage,
  extendBudgetMessage,
  externalFlagMessage,
  type MessageForms,
  pauseMessage,
  redirectMessage,
  resumeMessage,
  sessionProgressMessage,
  sessionBudgetSignal,
  sessionResumeSignal,
  sessionStopSignal,
  statusQuery,
  stopMessage,
} from './messages.js';

/**
 * Every message the loop handles, declared once: its wire forms (messages.ts), how its payload is
 * read, what refuses it, and what it does. Updates and signals are registered from the same entry:
 * a refused update leaves nothing in history; a signal cannot be refused, so one that fails is
 * recorded as a rejected intervention. Handlers only change the loop's state (and tell the running
 * session); the workflow acts on it between sessions.
 */

type Via = Intervention['via'];

interface LoopMessage<I, P> {
  forms: MessageForms<I>;
  description?: string;
  /** Reads the payload with its schema (zod loaded lazily, message-schemas.ts); throws a readable Error. */
  parse(loop: LoopRun, raw: unknown): P;
  /** Refuses a message the loop cannot take now (validator of the update; the signal's rejection). */
  check?(loop: LoopRun, payload: P): void;
  /** Acts on it; returns the update's acknowledgement. */
  apply(loop: LoopRun, payload: P, via: Via): Promise<string>;
  /**
   * An engine signal (the flag watcher's, the session's): the loop waits for its handler before it
   * ends or continues as new, and a failure fails the task like any handler's. A human signal runs
   * detached: a failure while it acts is recorded as a rejected intervention.
   */
  engine?: boolean;
}

const message = <I, P>(m: LoopMessage<I, P>) => m;

const refuseIfEnded = (loop: LoopRun) => {
  if (loop.stopReason) throw new Error(`loop ${loop.loopId} has already ended (${loop.stopReason})`);
};

const stop = message({
  forms: stopMessage,
  description: 'Stop the loop: {mode: now|after-session, reason}',
  // Without a payload (the UI's signal button, a bare `temporal workflow signal`), a stop waits for the session's close.
  parse: (loop, raw) =>
    parseMessage(
      messageSchemas().StopInputSchema,
      (raw === undefined || raw === null) && loop.fixes.stopSignalWithoutPayloadMeansAfterSession ? {} : raw,
    ),
  check: (loop, p) => {
    refuseIfEnded(loop);
    const pending = loop.state.stop;
    if (pending && (pending.mode === 'now' || p.mode !== 'now'))
      throw new Error(`a stop (${pending.mode}) is already pending`);
  },
  apply: async (loop, { mode, reason: note }, via) => {
    const { state } = loop;
    loop.intervene('stop', `${mode}${note ? `: ${note}` : ''}`, via);
    if (!state.stop || (mode === 'now' && state.stop.mode !== 'now')) state.stop = { mode, reason: 'user_stop', note };
    const runsEnded = mode === 'now' ? loop.stopRunsNow() : null;
    const running = loop.sessionRunning();
    if (loop.child) await loop.child.signal(sessionStopSignal, state.stop);
    await runsEnded;
    await loop.ledgerNote();
    // Paused, waiting for an answer or between sessions: no session to wait for or cancel.
    if (!running) return 'stopping: no session is running, so the loop ends before another starts';
    return mode === 'now'
      ? 'stopping now: the running agent is cancelled'
      : 'stopping after the current session closes';
  },
});

const redirect = message({
  forms: redirectMessage,
  description: 'Redirect the next sessions: {note}',
  parse: (_loop, raw) => parseMessage(messageSchemas().RedirectInputSchema, raw),
  apply: async (loop, { note }, via) => {
    loop.intervene('redirect', note, via);
    loop.state.redirects.push(note);
    await loop.ledgerNote();
    if (loop.sessionsLeftToStart() > 0) return `the next executor prompt and EXECUTOR_BRIEF.md will carry: ${note}`;
    const id = workflowInfo().workflowId;
    return (
      `no session is left in the session budget (${loop.state.budget.sessions}), so no executor will read it; ` +
      `it is in the ledger and the final summary. To act on it: loop-station extend ${id} --sessions ` +
      `${loop.state.budget.sessions + 1}: ${note}`
    );
  },
});

/** pause (want true) and resume (want false): the same message but for the state they ask for. */
const pausing = (want: boolean, forms: MessageForms<unknown>, description: string) =>
  message({
    forms,
    description,
    parse: (_loop, raw) => parseMessage(messageSchemas().PauseInputSchema, raw ?? {}),
    check: (loop) => {
      refuseIfEnded(loop);
      // A resume also answers a run that waits for a human's fix (phase blocked).
      if (loop.state.paused === want && (want || !loop.state.blocked))
        throw new Error(want ? 'the loop is already paused' : 'the loop is not paused');
    },
    apply: async (loop, { note }, via) => {
      const blocked = want ? null : (loop.state.blocked ?? null);
      loop.state.paused = want;
      if (!want) loop.state.pauseReason = null;
      if (blocked) {
        loop.state.blocked = null;
        if (loop.child) await loop.child.signal(sessionResumeSignal);
      }
      loop.intervene(want ? 'pause' : 'resume', note, via);
      if (want && !loop.child && !loop.state.approval) loop.setPhase('paused');
      await loop.ledgerNote();
      if (blocked)
        return `resumed: session ${sessionLabel(blocked.session)} runs ${blocked.agent} ${blocked.role.toLowerCase()} again`;
      if (!want) return 'resumed';
      return loop.child
        ? `paused: session ${sessionLabel(loop.childSession)} finishes, then no new session starts`
        : 'paused';
    },
  });

/** Refuses an answer to a session that waits for none (or, since the fixes, a second answer, or a promote with no candidate). */
function checkApproval(loop: LoopRun, session: number, decision?: DecisionClass): void {
  const pending = loop.state.approval;
  if (!pending) throw new Error('nothing waits for approval');
  if (pending.session !== session)
    throw new Error(`session ${session} does not wait for approval; session ${pending.session} does`);
  if (!loop.fixes.approvalAnsweredOnceWithCandidate) return;
  if (loop.answer)
    throw new Error(
      `session ${session} already has an answer (${loop.answer.kind}); it takes effect before the next session starts`,
    );
  const applies = decision ?? pending.onApprove ?? pending.decision;
  if (DECISION_TRAITS[applies].makesBest && !pending.candidate) {
    throw new Error(
      `session ${session} has no candidate to promote: its executor did not finish, its evidence gave no value, or protection failed`,
    );
  }
}

const approve = message({
  forms: approveMessage,
  description: 'Approve a pending decision: {session, decision?, note?}',
  parse: (_loop, raw) => parseMessage(messageSchemas().ApproveInputSchema, raw),
  check: (loop, p) => checkApproval(loop, p.session, p.decision),
  apply: async (loop, p, via) => {
    loop.answer = { kind: 'approve', note: p.note, ...(p.decision ? { decision: p.decision } : {}) };
    loop.intervene(
      'approve',
      `session ${p.session}${p.decision ? ` as ${p.decision}` : ''}${p.note ? `: ${p.note}` : ''}`,
      via,
    );
    await loop.ledgerNote();
    return `approved session ${p.session}`;
  },
});

const deny = message({
  forms: denyMessage,
  description: 'Deny a pending decision: {session, note?}',
  parse: (_loop, raw) => parseMessage(messageSchemas().DenyInputSchema, raw),
  check: (loop, p) => checkApproval(loop, p.session),
  apply: async (loop, p, via) => {
    loop.answer = { kind: 'deny', note: p.note };
    loop.intervene('deny', `session ${p.session}${p.note ? `: ${p.note}` : ''}`, via);
    await loop.ledgerNote();
    return `denied session ${p.session}`;
  },
});

const extendBudget = message({
  forms: extendBudgetMessage,
  description: 'Raise a budget: {sessions?, wallClock?, tokens?, costUsd?, note?}',
  parse: (loop, raw): Extension => loop.budget.extension(parseMessage(messageSchemas().ExtendBudgetInputSchema, raw)),
  check: (loop, ext) => loop.budget.checkExtension(ext),
  apply: async (loop, ext, via) => {
    const { request: r } = ext;
    const amended = loop.state.amendments.length;
    loop.budget.extend(ext, new Date().toISOString(), loop.currentSession());
    if (r.sessions !== undefined && memoFollowsExtend()) upsertMemo({ sessions: loop.state.budget.sessions });
    const item = loop.intervene(
      'extendBudget',
      JSON.stringify({
        sessions: r.sessions,
        wallClock: r.wallClock,
        tokens: r.tokens,
        costUsd: r.costUsd,
        note: r.note || undefined,
      }),
      via,
    );
    // The running session holds the budget it started with: its wall-clock timer and decision follow the new one.
    if (loop.fixes.raisedBudgetReachesRunningSession && loop.child)
      await loop.child.signal(sessionBudgetSignal, loop.state.budget);
    await loop.ledgerNote();
    // The contract's amendments say who asked for them, as the ledger does.
    if (item.by) for (const a of loop.state.amendments.slice(amended)) a.by = item.by;
    return `budget now ${limitsText(loop.state.budget)}`;
  },
});

const externalFlag = message({
  forms: externalFlagMessage,
  // Anyone can send this signal (`temporal workflow signal`): a bad payload must not reach the session.
  // Checked without zod: workflows load zod only for human messages (message-schemas.ts says why).
  parse: (loop, raw) => {
    const problem = loop.fixes.malformedExternalFlagRejected ? externalFlagProblem(raw) : null;
    if (problem !== null) throw new Error(problem);
    return raw as ExternalFlagInput;
  },
  apply: async (loop, payload) => {
    if (loop.child) await loop.child.signal(externalFlagMessage.signal, payload);
    return '';
  },
  engine: true,
});

const sessionProgress = message({
  forms: sessionProgressMessage,
  parse: (_loop, raw) => raw as SessionProgress,
  apply: async (loop, { session, phase, until, event }) => {
    if (session !== loop.childSession) return '';
    loop.pendingUntil = until ?? null;
    // A blocked run stays on the card until resume or the session's close: another reviewer's
    // phase does not mean this one's fix was made.
    if (event) await recordRunEvent(loop, session, event);
    loop.setPhase(phase);
    if (phase === 'review')
      loop.notifier.announce('review_ready', `session ${sessionLabel(session)} is ready for review`, { session });
    if (phase === 'usage_wait') {
      const note = `session ${sessionLabel(session)} waits for a usage reset until ${until ?? 'a backoff ends'}`;
      loop.notifier.announce('usage_wait', note, { session });
      // An overnight wait belongs in the ledger, where people look in the morning.
      if (loop.fixes.usageWaitInLedger) {
        loop.intervene('usage_wait', note, 'engine');
        await loop.ledgerNote();
      }
    }
    return '';
  },
  engine: true,
});

/**
 * What happened to an agent run, as the session reports it: into the ledger; a run that needs a
 * human also onto the status card (until resume) and out as a `blocked` notification, a fallback
 * of the agent supervisor as `decision_fallback`.
 */
async function recordRunEvent(loop: LoopRun, session: number, event: RunEvent): Promise<void> {
  const note = `session ${sessionLabel(session)} ${event.note}`;
  if (event.kind === 'blocked') {
    loop.state.blocked = {
      session,
      agent: event.agent,
      role: event.role,
      code: event.code,
      note: event.note,
      fix: event.fix,
    };
    loop.notifier.announce('blocked', `${note}; after the fix: loop-station resume ${loop.loopId}`, { session });
  }
  if (event.kind === 'fallback') loop.notifier.announce('decision_fallback', note, { session });
  loop.intervene(event.kind, note, 'engine');
  await loop.ledgerNote();
}

const LOOP_MESSAGES = [
  stop,
  redirect,
  pausing(true, pauseMessage, 'Pause: no new session starts'),
  pausing(false, resumeMessage, 'Resume a paused loop'),
  approve,
  deny,
  extendBudget,
  externalFlag,
  sessionProgress,
] as const;

function register<I, P>(loop: LoopRun, m: LoopMessage<I, P>): void {
  const { update, signal, name } = m.forms;
  if (update) {
    setHandler(
      update,
      async (raw) => ({ accepted: true as const, message: await m.apply(loop, m.parse(loop, raw), 'update') }),
      {
        validator: (raw) => {
          const payload = m.parse(loop, raw);
          m.check?.(loop, payload);
        },
        ...(m.description ? { description: m.description } : {}),
      },
    );
  }
  if (signal) {
    setHandler(signal, (raw) => {
      loop.signalRef = loop.countSignal(name);
      try {
        let payload: P;
        try {
          payload = m.parse(loop, raw);
          m.check?.(loop, payload);
        } catch (error) {
          loop.reject(name, error);
          return;
        }
        const applying = m.apply(loop, payload, 'signal');
        if (m.engine) return applying.then(() => undefined);
        void applying.catch((error: unknown) => loop.reject(name, error));
      } finally {
        loop.signalRef = null;
      }
    });
  }
}

/** Installs every handler; call before the workflow's first await (an update arriving earlier would be rejected). */
export function registerLoopMessages(loop: LoopRun): void {
  setHandler(statusQuery, () => loop.status());
  for (const m of LOOP_MESSAGES) register(loop, m as LoopMessage<unknown, unknown>);
  // A misspelt signal (`temporal workflow signal --name puase`) is accepted by the server whatever its
  // name: without a handler it was dropped without a word. It is recorded as rejected, naming the known ones.
  const known = LOOP_MESSAGES.flatMap((m) => (m.forms.signal && !m.engine ? [m.forms.signal.name] : []));
  setDefaultSignalHandler((name) => {
    if (!unknownSignalsRecorded()) return;
    loop.signalRef = loop.countSignal(name);
    try {
      loop.reject(name, new Error(`no such signal; the loop takes ${known.join(', ')}`));
    } finally {
      loop.signalRef = null;
    }
  });
}
