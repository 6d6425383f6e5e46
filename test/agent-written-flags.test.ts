import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import { node, runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { useTestWorker } from './helpers/worker.js';

const worker = useTestWorker();

/*
 * Executors that follow the original LOOP-STATION skill and write their own flags: a RUNNING written
 * with `>` over the engine's, and a terminal flag at the name the engine writes after the run.
 */
const FLAGS = 'loop_station/flags/session_001';

/** A shell executor: `before` and `after` run around the toy executor, in the session's flag folder as $F. */
const executor = (before: string, after: string, toy = node('toy-executor.mjs')) =>
  [
    'F="$LOOP_STATION_ROOT/loop_station/flags/session_$LOOP_STATION_SESSION"; N=$LOOP_STATION_SESSION; mkdir -p "$F"',
    before,
    toy,
    after,
  ].join('\n');

const body = (status: string) =>
  `printf 'producer: TOY_EXEC\\nrole: EXECUTOR\\nsession: %s\\nstatus: ${status}\\ntimestamp: %s\\n' "$N" "$(date -u +%FT%TZ)"`;

async function run(script: string, files: Record<string, string> = {}, idleTimeout?: string) {
  const root = await toyRoot({ 'agent.sh': script, ...files });
  const config = toySpec(root, worker.taskQueue, {
    budget: { sessions: 1, perRun: '30s' },
    reviewers: [],
    executor: {
      name: 'toy_exec',
      agent: 'shell',
      command: `bash ${JSON.stringify(join(root, 'agent.sh'))}`,
      ...(idleTimeout ? { idleTimeout } : {}),
    },
  });
  const { result } = (await runLoop(worker.client, worker.taskQueue, config)) as { result: LoopResult };
  const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
  const rows = reviewFlags
    .split('\n')
    .filter((l) => /^\| \d+ \|/.test(l))
    .map((l) => l.split(' | ').slice(2, 5).join(' | '));
  const errors = (await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error');
  return { root, result, rows, errors, flag: (name: string) => readFile(join(root, FLAGS, name), 'utf8') };
}

describe('an executor that writes its own flags', () => {
  test("RUNNING over the engine's and a DONE that agrees: both kept as written, recorded, and the session closes", async () => {
    const done = `${body('DONE')} > "$F/TOY_EXEC-SESSION$N-EXECUTOR-DONE.flag"`;
    const { result, rows, errors, flag } = await run(
      executor(`${body('RUNNING')} > "$F/TOY_EXEC-SESSION$N-EXECUTOR-RUNNING.flag"`, done),
    );
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    // The agent's bytes stay: the engine rewrites no flag.
    expect(await flag('TOY_EXEC-SESSION001-EXECUTOR-DONE.flag')).not.toContain('writer: engine');
    expect(await flag('TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag')).not.toContain('writer: engine');
    // The executor's flags in name order; the engine's RUNNING, rewritten in place, is found by its hash.
    expect(rows).toEqual([
      'TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag | - | executor launched',
      'TOY_EXEC-SESSION001-EXECUTOR-DONE.flag | - | executor done (TOY_EXEC wrote this flag itself; adopted)',
      'LOOP_STATION-SESSION001-SUPERVISOR-RUNNING.flag | - | supervisor self-review',
      'LOOP_STATION-SESSION001-SUPERVISOR-VIOLATION.flag | - | VIOLATION:FLAG_UNKNOWN_PRODUCER',
      '- | VIOLATION:FLAG_UNKNOWN_PRODUCER | TOY_EXEC-SESSION001-EXECUTOR-DONE.flag: TOY_EXEC wrote an executor flag itself; only the engine writes them',
      'LOOP_STATION-SESSION001-SUPERVISOR-REPAIRED.flag | - | REPAIRED:FLAG_UNKNOWN_PRODUCER',
      "- | REPAIRED:FLAG_UNKNOWN_PRODUCER | its status agrees with the engine's: kept as written, in the engine's place",
      'LOOP_STATION-SESSION001-SUPERVISOR-VIOLATION-2.flag | - | VIOLATION:FLAG_COLLISION',
      '- | VIOLATION:FLAG_COLLISION | TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag: rewritten in place after the engine wrote it',
      'LOOP_STATION-SESSION001-SUPERVISOR-REPAIRED-2.flag | - | REPAIRED:FLAG_COLLISION',
      "- | REPAIRED:FLAG_COLLISION | its status agrees with the engine's: kept as written, in the engine's place",
      '- | REVIEW_NOT_OPENED:no_reviewers | session goes straight to the decision',
      'LOOP_STATION-SESSION001-SUPERVISOR-DONE.flag | - | decision stop',
    ]);
    expect(errors).toEqual([]);
  });

  test('an empty DONE (touch) counts as the status its name says', async () => {
    const { result, rows, errors, flag } = await run(executor('', 'touch "$F/TOY_EXEC-SESSION$N-EXECUTOR-DONE.flag"'));
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    expect(await flag('TOY_EXEC-SESSION001-EXECUTOR-DONE.flag')).toBe('');
    expect(rows).toContain(
      'TOY_EXEC-SESSION001-EXECUTOR-DONE.flag | - | executor done (TOY_EXEC wrote this flag itself; adopted)',
    );
    expect(rows.filter((r) => r.includes('REPAIRED:FLAG_UNKNOWN_PRODUCER |'))).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  test("a DONE the engine's gate does not hold: kept untouched, the engine's BLOCKED beside it, the session closes", async () => {
    const { result, rows, errors, flag } = await run(executor('', 'touch "$F/TOY_EXEC-SESSION$N-EXECUTOR-DONE.flag"'), {
      'plan.json': JSON.stringify({ noReport: [1] }),
    });
    expect(result.history).toHaveLength(1);
    expect(await flag('TOY_EXEC-SESSION001-EXECUTOR-DONE.flag')).toBe('');
    expect(await flag('TOY_EXEC-SESSION001-EXECUTOR-BLOCKED.flag')).toContain('writer: engine');
    expect(rows).toContain('TOY_EXEC-SESSION001-EXECUTOR-BLOCKED.flag | - | executor blocked');
    expect(rows).toContain(
      "- | VIOLATION:FLAG_UNKNOWN_PRODUCER | TOY_EXEC-SESSION001-EXECUTOR-DONE.flag: TOY_EXEC wrote an executor flag itself; only the engine writes them; it says DONE, the engine's verdict is BLOCKED (TOY_EXEC-SESSION001-EXECUTOR-BLOCKED.flag)",
    );
    expect(rows).toContain('- | REPAIRED:FLAG_UNKNOWN_PRODUCER | the flag is disregarded');
    expect(errors).toEqual([]);
  });

  test('HEARTBEAT flags the executor creates, silent otherwise, are life: not a stall, adopted, still recorded', async () => {
    // Four beats a second apart (-2, -3, -4 as §2.3 names repeats), no output, a 3 s idle timeout.
    const beats = [
      'for k in 1 2 3 4; do s=""; [ $k -gt 1 ] && s="-$k"',
      `  ${body('HEARTBEAT')} > "$F/TOY_EXEC-SESSION$N-EXECUTOR-HEARTBEAT$s.flag"; sleep 1`,
      'done',
    ].join('\n');
    const { result, rows, errors, root } = await run(executor(beats, ''), {}, '3s');
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    const beatRows = rows.filter((r) => r.includes('VIOLATION:FLAG_UNKNOWN_PRODUCER |'));
    expect(beatRows).toHaveLength(4);
    for (const r of beatRows) expect(r).toMatch(/: TOY_EXEC wrote its own HEARTBEAT; a sign of life, as the engine's$/);
    expect(rows.filter((r) => r.includes('REPAIRED:FLAG_UNKNOWN_PRODUCER |'))).toEqual(
      Array(4).fill("- | REPAIRED:FLAG_UNKNOWN_PRODUCER | a sign of life, as the engine's HEARTBEAT: kept as written"),
    );
    expect(errors).toEqual([]);
    // validate replays them as the engine's heartbeats, not as flags to remove (warnings before).
    const findings = (await validateCommand({ dir: root })).findings.filter((f) => f.file?.includes('HEARTBEAT'));
    expect(findings).toEqual([]);
  });
});
