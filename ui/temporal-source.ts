import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { LoopResult, LoopStatus } from '../protocol/schemas/messages.js';
import type { ConnectionFlags } from '../server/connection-options.js';
import { statusQuery } from '../workflows/messages.js';
import { LoopBest, LoopName, LoopPhaseKey, LoopSession } from '../workflows/search-attributes.js';
import { connect } from '../cli/connect.js';
import { type ControlAnswer, type ControlName, sendControl } from './control.js';

/**
 * Loop state as the dashboard reads it from Temporal: visibility (list and search attributes),
 * describe, the `status` query and, for a finished loop, its result. Nothing here reads files.
 */

/** What the workflow's memo says (submit, fork and demo write it). */
export interface LoopMemo {
  goal: string | null;
  metric: string | null;
  direction: 'maximize' | 'minimize' | null;
  root: string | null;
  sessions: number | null;
}

/** One row of the loops page. */
export interface LoopSummary {
  workflowId: string;
  name: string | null;
  /** RUNNING, COMPLETED, FAILED, TERMINATED, … */
  runStatus: string;
  phase: string | null;
  session: number | null;
  sessions: number | null;
  metric: string | null;
  best: { value: number; session: number | null } | null;
  used: LoopStatus['used'] | null;
  budget: LoopStatus['budget'] | null;
  stopReason: string | null;
  pending: string | null;
  startTime: string;
  closeTime: string | null;
  /** The last time the loop moved: its status's workflow time, else its close or start. */
  lastChange: string;
}

/** One loop as its page shows it. */
export interface LoopSnapshot {
  workflowId: string;
  runStatus: string;
  startTime: string;
  closeTime: string | null;
  memo: LoopMemo;
  /** The status query's answer; null when no worker answered (the reason is in `problem`). */
  status: LoopStatus | null;
  /** A completed loop's result. */
  result: LoopResult | null;
  problem: string | null;
}

export interface LoopSource {
  readonly namespace: string;
  /** Loops of the namespace, newest first, at most `limit`. */
  list(limit: number): Promise<LoopSummary[]>;
  /** null: no such loop in the namespace. */
  snapshot(workflowId: string): Promise<LoopSnapshot | null>;
  control(workflowId: string, name: ControlName, input: unknown): Promise<ControlAnswer>;
  /** The Temporal Web UI page of a workflow, when the UI's address is known. */
  temporalLink(workflowId: string): string | null;
  close(): Promise<void>;
}

const QUERY_DEADLINE_MS = 3000;
/** Any other call of the dashboard's (describe, list, result) fails after this long, so close() waits at most this. */
const CALL_DEADLINE_MS = 10_000;
/** A finished loop no worker could replay is asked again after this long, not on every refresh. */
const CLOSED_RETRY_MS = 60_000;
const LIST_STATUS_TTL_MS = 1500;

interface ClosedState {
  status: LoopStatus | null;
  result: LoopResult | null;
  problem: string | null;
  at: number;
}

const memoOf = (memo: Record<string, unknown> | undefined): LoopMemo => {
  const m = memo ?? {};
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    goal: text(m.goal),
    metric: text(m.metric),
    root: text(m.root),
    direction: m.direction === 'maximize' || m.direction === 'minimize' ? m.direction : null,
    sessions: typeof m.sessions === 'number' ? m.sessions : null,
  };
};

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/** The Temporal-backed source of a dashboard; `identity` is recorded with every update it sends. */
export class TemporalLoopSource implements LoopSource {
  /** Finished runs do not change: their status (or result) is kept by run id. */
  private readonly closed = new Map<string, ClosedState>();
  private readonly listed = new Map<string, { at: number; status: Promise<LoopStatus | null> }>();
  /** The calls still out, each with its own abort controller: close() cancels them and waits (see close). */
  private readonly inflight = new Map<Promise<unknown>, AbortController>();

  /** `closing`: aborted by close(); the connection stops retrying failed calls once it is (connect's stopRetrying). */
  constructor(
    private readonly client: Client,
    readonly namespace: string,
    private readonly uiBase: string | null,
    private readonly closeConnection: () => Promise<void>,
    private readonly closing = new AbortController(),
  ) {}

  temporalLink(workflowId: string): string | null {
    return this.uiBase
      ? `${this.uiBase.replace(/\/$/, '')}/namespaces/${encodeURIComponent(this.namespace)}/workflows/${encodeURIComponent(workflowId)}`
      : null;
  }

  private async queryStatus(workflowId: string, runId?: string): Promise<LoopStatus> {
    return this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
      this.client.workflow.getHandle(workflowId, runId).query(statusQuery),
    );
  }

  /** A finished run's status (a worker replays it to answer) or, failing that, its result; asked again after a minute. */
  private async closedState(workflowId: string, runId: string, runStatus: string): Promise<ClosedState> {
    const kept = this.closed.get(runId);
    if (kept && (kept.status || Date.now() - kept.at < CLOSED_RETRY_MS)) return kept;
    const result =
      kept?.result ??
      (runStatus === 'COMPLETED'
        ? ((await this.client.workflow
            .getHandle(workflowId, runId)
            .result()
            .catch(() => null)) as LoopResult | null)
        : null);
    let state: ClosedState;
    try {
      state = { status: await this.queryStatus(workflowId, runId), result, problem: null, at: Date.now() };
    } catch (error) {
      state = {
        status: null,
        result,
        problem: `the status of this finished loop needs a worker to answer (${firstLine(error)}); shown from its result and files`,
        at: Date.now(),
      };
    }
    this.closed.set(runId, state);
    if (this.closed.size > 500) this.closed.delete(this.closed.keys().next().value!);
    return state;
  }

  /**
   * Every call to Temporal goes through here, with a deadline and an abort signal, and is counted
   * until it settles: the client retries a failed call on a timer, and a retry that fires after the
   * connection is closed throws where nobody can catch it ("Channel has been shut down"). The signal
   * is the call's own: the client adds a listener to it for every request and never removes one, so
   * on one signal for the source's life they would pile up for as long as the dashboard runs.
   */
  private call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing.signal.aborted) return Promise.reject(new Error('the dashboard is closing'));
    const abort = new AbortController();
    // A list makes a request per loop within one call: each adds a listener, and Node warns past 10.
    setMaxListeners(0, abort.signal);
    const call = this.client.withAbortSignal(abort.signal, () =>
      this.client.withDeadline(Date.now() + CALL_DEADLINE_MS, fn),
    );
    this.inflight.set(call, abort);
    const settled = () => this.inflight.delete(call);
    call.then(settled, settled);
    return call;
  }

  snapshot(workflowId: string): Promise<LoopSnapshot | null> {
    return this.call(() => this.readSnapshot(workflowId));
  }

  private async readSnapshot(workflowId: string): Promise<LoopSnapshot | null> {
    const handle = this.client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
    const runStatus = description.status.name;
    const base = {
      workflowId,
      runStatus,
      startTime: description.startTime.toISOString(),
      closeTime: description.closeTime?.toISOString() ?? null,
      memo: memoOf(description.memo as Record<string, unknown> | undefined),
    };
    if (runStatus !== 'RUNNING') {
      const { status, result, problem } = await this.closedState(workflowId, description.runId, runStatus);
      return { ...base, status, result, problem };
    }
    try {
      return { ...base, status: await this.queryStatus(workflowId), result: null, problem: null };
    } catch (error) {
      return {
        ...base,
        status: null,
        result: null,
        problem: `no worker answered the status query (${firstLine(error)}): start one with \`loop-station worker\` or \`loop-station dev\``,
      };
    }
  }

  list(limit: number): Promise<LoopSummary[]> {
    return this.call(() => this.readList(limit));
  }

  private async readList(limit: number): Promise<LoopSummary[]> {
    const rows: LoopSummary[] = [];
    const pending: Promise<void>[] = [];
    const seen = new Set<string>();
    for await (const wf of this.client.workflow.list({ query: `WorkflowType = 'loopWorkflow'` })) {
      // One row per loop: its latest run (a run that continued as new, or an older run of a reused id, is the same loop).
      if (wf.status.name === 'CONTINUED_AS_NEW' || seen.has(wf.workflowId)) continue;
      seen.add(wf.workflowId);
      const memo = memoOf(wf.memo as Record<string, unknown> | undefined);
      const bestValue = wf.typedSearchAttributes.get(LoopBest) ?? null;
      const row: LoopSummary = {
        workflowId: wf.workflowId,
        name: wf.typedSearchAttributes.get(LoopName) ?? null,
        runStatus: wf.status.name,
        phase: wf.typedSearchAttributes.get(LoopPhaseKey) ?? null,
        session: wf.typedSearchAttributes.get(LoopSession) ?? null,
        sessions: memo.sessions,
        metric: memo.metric,
        best: bestValue === null ? null : { value: bestValue, session: null },
        used: null,
        budget: null,
        stopReason: null,
        pending: null,
        startTime: wf.startTime.toISOString(),
        closeTime: wf.closeTime?.toISOString() ?? null,
        lastChange: (wf.closeTime ?? wf.startTime).toISOString(),
      };
      rows.push(row);
      pending.push(this.fillFromState(row, wf.runId));
      if (rows.length >= limit) break;
    }
    await Promise.all(pending);
    return rows;
  }

  /** Best session, budget used and stop reason come from the status (or a finished loop's result). */
  private async fillFromState(row: LoopSummary, runId: string): Promise<void> {
    let status: LoopStatus | null = null;
    let result: LoopResult | null = null;
    if (row.runStatus === 'RUNNING') status = await this.recentStatus(row.workflowId, runId);
    else ({ status, result } = await this.closedState(row.workflowId, runId, row.runStatus));
    if (status) {
      Object.assign(row, {
        name: status.name,
        phase: status.phase,
        session: status.session,
        sessions: status.budget.sessions,
        metric: status.metric,
        best: status.best,
        used: status.used,
        budget: status.budget,
        stopReason: status.stopReason,
        pending: status.pending?.message ?? null,
        lastChange: row.closeTime ?? status.updatedAt,
      });
    } else if (result) {
      Object.assign(row, { best: result.best, stopReason: result.stopReason, session: result.sessions });
    }
  }

  /**
   * A running loop's status for the list, at most LIST_STATUS_TTL_MS old: each answer costs its
   * worker a query, and a list of many loops refreshed by several pages should not cost one per row each time.
   */
  private recentStatus(workflowId: string, runId: string): Promise<LoopStatus | null> {
    const kept = this.listed.get(runId);
    if (kept && Date.now() - kept.at < LIST_STATUS_TTL_MS) return kept.status;
    const status = this.queryStatus(workflowId, runId).catch(() => null);
    this.listed.set(runId, { at: Date.now(), status });
    if (this.listed.size > 1000) this.listed.delete(this.listed.keys().next().value!);
    return status;
  }

  control(workflowId: string, name: ControlName, input: unknown): Promise<ControlAnswer> {
    return this.call(() => sendControl(this.client, workflowId, name, input));
  }

  /**
   * Cancels the calls still out and stops retries, waits until each call has settled (one waiting
   * for its retry makes that last attempt first), and only then closes the connection.
   */
  async close(): Promise<void> {
    this.closing.abort();
    for (const abort of this.inflight.values()) abort.abort();
    await Promise.allSettled([...this.inflight.keys()]);
    await this.closeConnection();
  }
}

/** The dashboard's client identity: who sent an intervention, as the loop's history records it. */
export const dashboardIdentity = (): string => `loop-station-ui@${hostname()}`;

/** Connects as `loop-station-ui@<host>`; an unreachable server fails like every CLI command. */
export async function connectLoopSource(
  flags: ConnectionFlags,
  options: { temporalUi: string | null },
): Promise<TemporalLoopSource> {
  const closing = new AbortController();
  const conn = await connect(flags, { identity: dashboardIdentity(), stopRetrying: closing.signal });
  return new TemporalLoopSource(conn.client, conn.namespace, options.temporalUi, conn.close, closing);
}
