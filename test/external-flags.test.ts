import { readdirSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { LoopResult } from '../protocol/schemas/messages.js';
import { runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { until, waitForFile } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

const worker = useTestWorker();

const review = (agent: string) =>
  [
    `agent: ${agent}`,
    'model: human',
    'instruction_profile: test',
    'role: REVIEWER',
    'session: 001',
    'status: DONE',
    'verdict: supported',
    'recommendation: promote',
    'blocked_reason: none',
    '',
    '## Evidence Checked',
    'metrics.json',
    '## Verdict',
    'supported',
    '',
  ].join('\n');

describe('the flag watcher', () => {
  test("relays a flag of an agent outside the roster (a VIOLATION the workflow repairs), never the engine's own TIMEOUT flag", async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [
        { name: 'slow', agent: 'external', required: false },
        { name: 'prompt', agent: 'external', required: true },
      ],
      reviewWait: { startTimeout: '2s', doneTimeout: '60s', heartbeatTimeout: '60s', skipOnTimeout: true },
    });
    const loopId = `loop-external-flags-${process.pid}-${Date.now()}`;
    const running = runLoop(worker.client, worker.taskQueue, config, loopId);
    const flags = join(root, 'loop_station/flags/session_001');
    await waitForFile(join(flags, 'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag'));
    await writeFile(
      join(flags, 'PROMPT-SESSION001-REVIEWER-RUNNING.flag'),
      'producer: PROMPT\nrole: REVIEWER\nsession: 001\nstatus: RUNNING\n',
    );
    // Taken by the session before the stranger's flag is written: two flags written at once may
    // reach it in either order, and the rows below are in the order it took them.
    const session = worker.client.workflow.getHandle(`${loopId}/session-001`);
    await until(async () => {
      const { events } = await session.fetchHistory();
      return (events ?? []).some(
        (e) =>
          e.workflowExecutionSignaledEventAttributes?.signalName === 'externalFlag' &&
          (e.workflowExecutionSignaledEventAttributes.input?.payloads ?? []).some((p) =>
            Buffer.from(p.data ?? [])
              .toString('utf8')
              .includes('PROMPT-SESSION001-REVIEWER-RUNNING.flag'),
          ),
      );
    }, "the session's signal for PROMPT's RUNNING flag");
    await writeFile(
      join(flags, 'STRANGER-SESSION001-REVIEWER-DONE.flag'),
      'producer: STRANGER\nrole: REVIEWER\nsession: 001\nstatus: DONE\n',
    );
    // The engine's TIMEOUT for SLOW lands while PROMPT still works: the gate is open to read it, if relayed.
    await waitForFile(join(flags, 'SLOW-SESSION001-REVIEWER-TIMEOUT.flag'));
    await new Promise((r) => setTimeout(r, 1500));
    await mkdir(join(root, 'loop_station/reviews/session_001'), { recursive: true });
    await writeFile(
      join(root, 'loop_station/reviews/session_001/PROMPT-SESSION001-REVIEWER-DONE.md'),
      review('PROMPT'),
    );
    await writeFile(
      join(flags, 'PROMPT-SESSION001-REVIEWER-DONE.flag'),
      'producer: PROMPT\nrole: REVIEWER\nsession: 001\nstatus: DONE\n',
    );

    const { result } = (await running) as { result: LoopResult };
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
    // One row for SLOW's TIMEOUT flag and no REVIEW_LATE:SLOW; STRANGER's flag is a repaired VIOLATION.
    expect(reviewFlags.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, 'T')).toBe(`# Review Flags — session 001

| seq | timestamp | flag | record | meaning | action |
| --- | --- | --- | --- | --- | --- |
| 1 | T | TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag | - | executor launched | TOY_EXEC |
| 2 | T | TOY_EXEC-SESSION001-EXECUTOR-DONE.flag | - | executor done | LOOP_STATION |
| 3 | T | LOOP_STATION-SESSION001-SUPERVISOR-RUNNING.flag | - | supervisor self-review | LOOP_STATION |
| 4 | T | LOOP_STATION-SESSION001-SUPERVISOR-READY.flag | - | self-review passed; review open | SLOW,PROMPT |
| 5 | T | PROMPT-SESSION001-REVIEWER-RUNNING.flag | - | external reviewer started | - |
| 6 | T | LOOP_STATION-SESSION001-SUPERVISOR-VIOLATION.flag | - | VIOLATION:FLAG_UNKNOWN_PRODUCER | - |
| 7 | T | - | VIOLATION:FLAG_UNKNOWN_PRODUCER | STRANGER-SESSION001-REVIEWER-DONE.flag: STRANGER is not an external reviewer of this loop (roster: SLOW, PROMPT) | - |
| 8 | T | LOOP_STATION-SESSION001-SUPERVISOR-REPAIRED.flag | - | REPAIRED:FLAG_UNKNOWN_PRODUCER | - |
| 9 | T | - | REPAIRED:FLAG_UNKNOWN_PRODUCER | the flag is disregarded | - |
| 10 | T | SLOW-SESSION001-REVIEWER-TIMEOUT.flag | - | REVIEW_START_TIMEOUT:SLOW | LOOP_STATION |
| 11 | T | - | REVIEW_START_TIMEOUT:SLOW | the wait for this reviewer ended; it says nothing about the candidate | - |
| 12 | T | PROMPT-SESSION001-REVIEWER-DONE.flag | - | external review done | LOOP_STATION |
| 13 | T | - | REVIEW_CONSUMED:PROMPT | review read into the decision | - |
| 14 | T | LOOP_STATION-SESSION001-SUPERVISOR-DONE.flag | - | decision stop | - |

## Timeout Records

- REVIEW_START_TIMEOUT:SLOW

## Protocol Violations

- VIOLATION:FLAG_UNKNOWN_PRODUCER
- REPAIRED:FLAG_UNKNOWN_PRODUCER
`);
  });
});

describe('an external reviewer that touches its HEARTBEAT flag in place', () => {
  test('each newer modification time is life: no heartbeat timeout, and its later review counts', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [{ name: 'out', agent: 'external', required: true }],
      reviewWait: { startTimeout: '20s', doneTimeout: '60s', heartbeatTimeout: '4s', skipOnTimeout: true },
    });
    const running = runLoop(worker.client, worker.taskQueue, config);
    const flags = join(root, 'loop_station/flags/session_001');
    await waitForFile(join(flags, 'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag'));
    await writeFile(
      join(flags, 'OUT-SESSION001-REVIEWER-RUNNING.flag'),
      'producer: OUT\nrole: REVIEWER\nsession: 001\nstatus: RUNNING\n',
    );
    // As the probe's reviewer did: one HEARTBEAT, `touch`ed every second for twice the heartbeat timeout.
    const beat = join(flags, 'OUT-SESSION001-REVIEWER-HEARTBEAT.flag');
    await writeFile(beat, '');
    for (let i = 0; i < 9; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const t = new Date();
      await utimes(beat, t, t);
    }
    await mkdir(join(root, 'loop_station/reviews/session_001'), { recursive: true });
    await writeFile(join(root, 'loop_station/reviews/session_001/OUT-SESSION001-REVIEWER-DONE.md'), review('OUT'));
    await writeFile(
      join(flags, 'OUT-SESSION001-REVIEWER-DONE.flag'),
      'producer: OUT\nrole: REVIEWER\nsession: 001\nstatus: DONE\n',
    );

    const { result } = (await running) as { result: LoopResult };
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
    expect(reviewFlags).not.toContain('TIMEOUT');
    expect(reviewFlags).toContain('| OUT-SESSION001-REVIEWER-HEARTBEAT.flag | - | external reviewer alive |');
    expect(reviewFlags).toContain('| REVIEW_CONSUMED:OUT |');
    expect(readdirSync(flags)).not.toContain('OUT-SESSION001-REVIEWER-TIMEOUT.flag');
  });
});
