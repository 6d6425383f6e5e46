/**
 * Where a session's time goes on its critical path, from sdk-core's own DEBUG log (a worker started
 * with `--core-log`: one JSON line per event, microsecond timestamps). Histories say when the
 * server saw a task start and end; this log says what the worker did inside it: the SDK's work on
 * each activation (the workflow code included), the local activities, the completion's round trip
 * to the server, and how long the worker then waited for the server and the agents.
 *
 * A session's path runs from its workflow's first task to the next session's: its own tasks, then
 * the loop's task that takes its result and starts the next child. Not on it: the loop's task for
 * the child's start and for the review-phase signal (they run beside the session's), the session's
 * task for that signal's acknowledgement (it runs beside the reviewer; counted apart, as
 * `offPathMs`), and the session's eviction from the worker's cache after it completed.
 */

export interface CoreLogEvent {
  atMs: number;
  message: string;
  runId: string | null;
  /** For "Sending activation to lang": the jobs, e.g. `ResolveActivity(2, Completed)`. */
  jobs: string | null;
}

/** One session's critical path, split by what the worker was doing; the parts sum to periodMs. */
export interface SessionPath {
  session: number;
  periodMs: number;
  /** Lang's work on each activation: the SDK's bridge and sandbox, and the workflow code. */
  activationMs: number;
  activations: number;
  /** Local activities: queued → resolved (the file steps, as the worker runs them). */
  localActivityMs: number;
  localActivities: number;
  /** A workflow task's completion sent → the server's answer. */
  completionMs: number;
  completions: number;
  /** sdk-core between those steps (applying a task, preparing commands). */
  coreMs: number;
  /** No workflow task of the path in flight: the server dispatching, the agents running, the child starting and ending. */
  waitMs: number;
  /** The session's task for the review signal's acknowledgement, beside the reviewer's run. */
  offPathMs: number;
}

const RUN_ID = /run_id(?:: |":")([0-9a-f-]{36})/;
const WORKFLOW_ID = /workflow_id(?:: \\"|":")([^"\\]+)/;

/** Microsecond ISO time → epoch ms with the fraction kept. */
const isoMs = (iso: string): number => {
  const fraction = /\.(\d+)Z$/.exec(iso)?.[1] ?? '0';
  return Date.parse(iso.replace(/\.\d+Z$/, 'Z')) + Number(`0.${fraction}`) * 1000;
};

/** The log's events in time order, and each run's workflow id. Lines that are not sdk-core's JSON are skipped. */
export function parseCoreLog(text: string): { events: CoreLogEvent[]; workflowOf: Map<string, string> } {
  const events: CoreLogEvent[] = [];
  const workflowOf = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{"timestamp"')) continue;
    let parsed: { timestamp: string; fields?: { message?: string; activation?: string } };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      continue;
    }
    const runId = RUN_ID.exec(line)?.[1] ?? null;
    // This message's span names the run and its workflow, before anything else in the line does.
    const workflowId =
      parsed.fields?.message === 'Applying new workflow task from server' && WORKFLOW_ID.exec(line)?.[1];
    if (runId && workflowId && !workflowOf.has(runId)) workflowOf.set(runId, workflowId);
    const activation = parsed.fields?.activation;
    events.push({
      atMs: isoMs(parsed.timestamp),
      message: parsed.fields?.message ?? '',
      runId,
      jobs: activation ? (/jobs: (.*)\)$/.exec(activation)?.[1] ?? activation) : null,
    });
  }
  events.sort((a, b) => a.atMs - b.atMs);
  return { events, workflowOf };
}

const EVICTION = new Set([
  'Eviction requested',
  'Evicting run',
  'Invalidating all local activities for run',
  'Cancelling all local activities for run',
]);

/** The events of one run grouped by workflow task: each group starts at a "New WFT". */
function tasksOf(events: CoreLogEvent[]): CoreLogEvent[][] {
  const tasks: CoreLogEvent[][] = [];
  for (const e of events) {
    if (e.message === 'New WFT' || tasks.length === 0) tasks.push([]);
    tasks[tasks.length - 1]!.push(e);
  }
  return tasks;
}

const firstJobs = (task: CoreLogEvent[]): string =>
  task.find((e) => e.message === 'Sending activation to lang')?.jobs ?? '';

/**
 * Each session's path but the last (which has no next session to end it), for the loop `loopId`
 * whose sessions are `${loopId}/session-NNN`.
 */
export function sessionPaths(text: string, loopId: string): SessionPath[] {
  const { events, workflowOf } = parseCoreLog(text);
  const runsOf = (workflowId: string) => new Set([...workflowOf].filter(([, w]) => w === workflowId).map(([r]) => r));
  const loopRuns = runsOf(loopId);
  const sessionRuns = [...workflowOf]
    .map(([run, w]) => ({ run, session: Number(/\/session-(\d+)$/.exec(w)?.[1] ?? NaN), w }))
    .filter((s) => s.w.startsWith(`${loopId}/session-`) && Number.isFinite(s.session))
    .sort((a, b) => a.session - b.session);
  const loopTasks = tasksOf(events.filter((e) => e.runId !== null && loopRuns.has(e.runId)));
  const out: SessionPath[] = [];
  for (let i = 0; i + 1 < sessionRuns.length; i++) {
    const { run, session } = sessionRuns[i]!;
    const own = events.filter(
      (e) => e.runId === run && !EVICTION.has(e.message) && !/RemoveFromCache/.test(e.jobs ?? ''),
    );
    const start = own[0]!.atMs;
    const end = events.find((e) => e.runId === sessionRuns[i + 1]!.run)!.atMs;
    const path: CoreLogEvent[] = [];
    let offPathMs = 0;
    for (const task of tasksOf(own)) {
      if (/^ResolveSignalExternalWorkflow/.test(firstJobs(task))) offPathMs += task.at(-1)!.atMs - task[0]!.atMs;
      else path.push(...task);
    }
    // The loop's task that resolves this child (it closes the session and starts the next).
    for (const task of loopTasks)
      if (task[0]!.atMs >= start && task[0]!.atMs < end && /^ResolveChildWorkflowExecution\b/.test(firstJobs(task)))
        path.push(...task);
    path.sort((a, b) => a.atMs - b.atMs);
    const p: SessionPath = {
      session,
      periodMs: end - start,
      activationMs: 0,
      activations: 0,
      localActivityMs: 0,
      localActivities: 0,
      completionMs: 0,
      completions: 0,
      coreMs: 0,
      waitMs: 0,
      offPathMs,
    };
    path.forEach((e, k) => {
      const dt = (path[k + 1]?.atMs ?? end) - e.atMs;
      switch (e.message) {
        case 'Sending activation to lang':
          p.activationMs += dt;
          p.activations++;
          break;
        case 'Queuing local activity':
          p.localActivityMs += dt;
          p.localActivities++;
          break;
        case 'Sending responses to server':
          p.completionMs += dt;
          p.completions++;
          break;
        case 'Marking WFT completed':
          p.waitMs += dt;
          break;
        default:
          p.coreMs += dt;
      }
    });
    out.push(p);
  }
  return out;
}
