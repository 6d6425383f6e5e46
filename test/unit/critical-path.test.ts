import { describe, expect, test } from 'vitest';
import { parseCoreLog, sessionPaths } from '../../bench/lib/critical-path.js';

// sdk-core's DEBUG lines as a worker started with --core-log writes them (the shapes of a real
// log, the noise left out): where each message carries its run id and, once, its workflow id.
const T0 = Date.parse('2026-12-07T04:00:00.000Z');
const iso = (ms: number) => {
  const whole = Math.floor(ms);
  const micros = Math.round((ms - whole) * 1000);
  return new Date(T0 + whole).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
};
const RUNS = {
  loop: '01a24e96-0000-7000-8000-000000000001',
  s1: '01a24e96-0000-7000-8000-000000000002',
  s2: '01a24e96-0000-7000-8000-000000000003',
};
const WORKFLOWS = { loop: 'loop-x', s1: 'loop-x/session-001', s2: 'loop-x/session-002' };
type Who = keyof typeof RUNS;

function line(at: number, who: Who, message: string, jobs?: string): string {
  const run = RUNS[who];
  const span = { run_id: run, task_queue: 'q', workflow_id: WORKFLOWS[who], name: 'complete_workflow_activation' };
  const fields: Record<string, string> = { message };
  if (message === 'New WFT') fields.run_id = run;
  if (message === 'Sending activation to lang')
    fields.activation = `WorkflowActivation(run_id: ${run}, is_replaying: false, jobs: ${jobs})`;
  if (message === 'Applying new workflow task from server') fields.task_token = 'CiQwMWEy';
  return JSON.stringify({ timestamp: iso(at), level: 'DEBUG', fields, span, spans: [span] });
}

/** A task: New WFT, applied, then the given steps; times in ms from T0. */
const task = (who: Who, at: number, steps: [number, string, string?][]) => [
  line(at, who, 'New WFT'),
  line(at + 0.1, who, 'Applying new workflow task from server'),
  ...steps.map(([t, m, jobs]) => line(t, who, m, jobs)),
];

const LOG = [
  ...task('s1', 0, [
    [0.4, 'Sending activation to lang', 'InitializeWorkflow'],
    [4.4, 'wf bridge iteration fetch'],
    [4.5, 'Queuing local activity'],
    [12.5, 'Applying local resolution'],
    [12.6, 'Sending activation to lang', 'ResolveActivity(1, Completed)'],
    [16.6, 'wf bridge iteration fetch'],
    [16.7, 'Sending responses to server'],
    [21.7, 'Marking WFT completed'],
  ]),
  // The loop's task for the child's start runs beside the session's: not on its path.
  ...task('loop', 1, [
    [1.2, 'Sending activation to lang', 'ResolveChildWorkflowExecutionStart'],
    [5, 'wf bridge iteration fetch'],
    [5.1, 'Sending responses to server'],
    [8, 'Marking WFT completed'],
  ]),
  // The review signal's acknowledgement: beside the path.
  ...task('s1', 30, [
    [30.2, 'Sending activation to lang', 'ResolveSignalExternalWorkflow'],
    [35, 'wf bridge iteration fetch'],
    [35.1, 'Sending responses to server'],
    [40, 'Marking WFT completed'],
  ]),
  ...task('s1', 51.7, [
    [52, 'Sending activation to lang', 'ResolveActivity(2, Completed)'],
    [56, 'wf bridge iteration fetch'],
    [56.1, 'Sending responses to server'],
    [60, 'Marking WFT completed'],
  ]),
  line(60.5, 's1', 'Eviction requested'),
  line(60.6, 's1', 'Sending activation to lang', 'RemoveFromCache'),
  line(64, 's1', 'Evicting run'),
  ...task('loop', 70, [
    [70.3, 'Sending activation to lang', 'ResolveChildWorkflowExecution'],
    [75, 'wf bridge iteration fetch'],
    [75.1, 'Queuing local activity'],
    [90, 'Applying local resolution'],
    [90.1, 'Sending activation to lang', 'ResolveActivity(9, Completed)'],
    [95, 'wf bridge iteration fetch'],
    [95.1, 'Sending responses to server'],
    [100, 'Marking WFT completed'],
  ]),
  ...task('s2', 110, [[110.4, 'Sending activation to lang', 'InitializeWorkflow']]),
  'worker on 127.0.0.1:7233 (a line that is not sdk-core JSON)',
].join('\n');

describe("a session's critical path from sdk-core's log", () => {
  test('runs are named by the workflow the log gives them', () => {
    const { workflowOf, events } = parseCoreLog(LOG);
    expect(workflowOf.get(RUNS.s1)).toBe('loop-x/session-001');
    expect(workflowOf.get(RUNS.loop)).toBe('loop-x');
    expect(events.every((e, i) => i === 0 || events[i - 1]!.atMs <= e.atMs)).toBe(true);
  });

  test("splits the period between the session's tasks, the loop's closing task and the waits", () => {
    const paths = sessionPaths(LOG, 'loop-x');
    expect(paths.map((p) => p.session)).toEqual([1]);
    const [p] = paths;
    expect(p!.periodMs).toBeCloseTo(110, 3);
    // 4.0 + 4.0 + 4.0 in the session, 4.7 + 4.9 in the loop's closing task.
    expect(p!.activations).toBe(5);
    expect(p!.activationMs).toBeCloseTo(21.6, 3);
    expect(p!.localActivities).toBe(2);
    expect(p!.localActivityMs).toBeCloseTo(22.9, 3);
    expect(p!.completions).toBe(3);
    expect(p!.completionMs).toBeCloseTo(13.8, 3);
    // Activity, child end, child start: after each completion until the path's next step.
    expect(p!.waitMs).toBeCloseTo(50, 3);
    expect(p!.coreMs).toBeCloseTo(1.7, 3);
    expect(p!.offPathMs).toBeCloseTo(10, 3);
    const parts = p!.activationMs + p!.localActivityMs + p!.completionMs + p!.waitMs + p!.coreMs;
    expect(parts).toBeCloseTo(p!.periodMs, 3);
  });
});
