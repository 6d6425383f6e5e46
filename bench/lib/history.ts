import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

/** Workflow histories as timed events: where a session's time goes, and how many primitives it used. */

export interface TimedEvent {
  id: number;
  /** Epoch milliseconds (server time). */
  atMs: number;
  /** Without the EVENT_TYPE_ prefix: WORKFLOW_TASK_STARTED, MARKER_RECORDED, … */
  type: string;
  /** For ACTIVITY_TASK_SCHEDULED: the activity type. */
  activity?: string;
  /** For WORKFLOW_TASK_COMPLETED, ACTIVITY_TASK_STARTED/COMPLETED: the id of the scheduling event. */
  scheduledId?: number;
  /** For a local activity's MARKER_RECORDED: its type and when the worker saw it complete. */
  local?: { type: string; completeMs: number };
  /** For CHILD_WORKFLOW_EXECUTION_COMPLETED: the child's workflow id. */
  child?: string;
}

interface JsonEvent {
  eventId: string;
  eventTime: string;
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  activityTaskStartedEventAttributes?: { scheduledEventId?: string };
  activityTaskCompletedEventAttributes?: { scheduledEventId?: string };
  workflowTaskStartedEventAttributes?: { scheduledEventId?: string };
  workflowTaskCompletedEventAttributes?: { scheduledEventId?: string };
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data?: string }[] }> };
  childWorkflowExecutionCompletedEventAttributes?: { workflowExecution?: { workflowId?: string } };
}

/** sdk-core's local activity marker: `data` holds {activity_type, complete_time: {seconds, nanos}, …}. */
function localMarker(e: JsonEvent): TimedEvent['local'] {
  const raw = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
  if (e.markerRecordedEventAttributes?.markerName !== 'core_local_activity' || !raw) return undefined;
  const data = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as {
    activity_type: string;
    complete_time: { seconds: number; nanos: number };
  };
  return { type: data.activity_type, completeMs: data.complete_time.seconds * 1000 + data.complete_time.nanos / 1e6 };
}

/** RFC 3339 with nanoseconds → epoch ms with the sub-millisecond part kept. */
const toMs = (time: string): number => {
  const frac = /\.(\d+)Z$/.exec(time)?.[1] ?? '0';
  return Date.parse(time.replace(/\.\d+Z$/, 'Z')) + Number(`0.${frac}`) * 1000;
};

export async function timeline(client: Client, workflowId: string, runId?: string): Promise<TimedEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = (JSON.parse(historyToJSON(history)) as { events: JsonEvent[] }).events;
  return events.map((e) => {
    const scheduled =
      e.activityTaskStartedEventAttributes?.scheduledEventId ??
      e.activityTaskCompletedEventAttributes?.scheduledEventId ??
      e.workflowTaskStartedEventAttributes?.scheduledEventId ??
      e.workflowTaskCompletedEventAttributes?.scheduledEventId;
    return {
      id: Number(e.eventId),
      atMs: toMs(e.eventTime),
      type: e.eventType.replace(/^EVENT_TYPE_/, ''),
      ...(e.activityTaskScheduledEventAttributes?.activityType?.name
        ? { activity: e.activityTaskScheduledEventAttributes.activityType.name }
        : {}),
      ...(scheduled ? { scheduledId: Number(scheduled) } : {}),
      ...(e.markerRecordedEventAttributes ? { local: localMarker(e) } : {}),
      ...(e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId
        ? { child: e.childWorkflowExecutionCompletedEventAttributes.workflowExecution.workflowId }
        : {}),
    };
  });
}

export interface SessionAnatomy {
  totalMs: number;
  events: number;
  /** Regular activities by type. */
  activities: Record<string, number>;
  /** Local activities (one core_local_activity marker each; patch markers are not counted). */
  localActivities: number;
  /** Local activities by type. */
  locals: Record<string, number>;
  /**
   * Local activities' run time by type: from the previous local activity's completion (or the
   * workflow task's start) to this one's, as the worker recorded it in the marker.
   */
  localRunMs: Record<string, number>;
  workflowTasks: number;
  signalsSent: number;
  /** Time from a workflow task's scheduling to its start (queue and dispatch). */
  workflowTaskQueueMs: number;
  /** Time a workflow task ran on the worker: workflow code plus the local activities inside it. */
  workflowTaskRunMs: number;
  /** Regular activities: scheduled → started, by type. */
  activityQueueMs: Record<string, number>;
  /** Regular activities: started → completed, by type. */
  activityRunMs: Record<string, number>;
}

const add = (map: Record<string, number>, key: string, value: number) => {
  map[key] = (map[key] ?? 0) + value;
};

/** Counts and sums over one session workflow's history (docs/protocol.md#canonical-order: executor, evidence, review, close). */
export function anatomy(events: TimedEvent[]): SessionAnatomy {
  const byId = new Map(events.map((e) => [e.id, e]));
  const out: SessionAnatomy = {
    totalMs: events[events.length - 1]!.atMs - events[0]!.atMs,
    events: events.length,
    activities: {},
    localActivities: 0,
    locals: {},
    localRunMs: {},
    workflowTasks: 0,
    signalsSent: 0,
    workflowTaskQueueMs: 0,
    workflowTaskRunMs: 0,
    activityQueueMs: {},
    activityRunMs: {},
  };
  let cursor = 0;
  for (const e of events) {
    const scheduled = e.scheduledId === undefined ? undefined : byId.get(e.scheduledId);
    switch (e.type) {
      case 'ACTIVITY_TASK_SCHEDULED':
        add(out.activities, e.activity!, 1);
        break;
      case 'MARKER_RECORDED':
        // Patch markers are recorded as markers too; only sdk-core's local activity markers count.
        if (e.local) {
          out.localActivities += 1;
          add(out.locals, e.local.type, 1);
          add(out.localRunMs, e.local.type, e.local.completeMs - cursor);
          cursor = e.local.completeMs;
        }
        break;
      case 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED':
        out.signalsSent += 1;
        break;
      case 'WORKFLOW_TASK_STARTED':
        out.workflowTasks += 1;
        cursor = e.atMs;
        if (scheduled) out.workflowTaskQueueMs += e.atMs - scheduled.atMs;
        break;
      case 'WORKFLOW_TASK_COMPLETED': {
        const started = events.find((s) => s.type === 'WORKFLOW_TASK_STARTED' && s.scheduledId === e.scheduledId);
        if (started) out.workflowTaskRunMs += e.atMs - started.atMs;
        break;
      }
      case 'ACTIVITY_TASK_STARTED':
        if (scheduled) add(out.activityQueueMs, scheduled.activity!, e.atMs - scheduled.atMs);
        break;
      case 'ACTIVITY_TASK_COMPLETED': {
        const started = events.find((s) => s.type === 'ACTIVITY_TASK_STARTED' && s.scheduledId === e.scheduledId);
        if (started && scheduled) add(out.activityRunMs, scheduled.activity!, e.atMs - started.atMs);
        break;
      }
    }
  }
  return out;
}
