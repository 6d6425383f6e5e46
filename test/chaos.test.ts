import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { AIMED_KILLS, runAimedKill, runChaos } from '../bench/lib/chaos.js';
import { testdir } from './helpers/testdir.js';

/**
 * The reduced chaos run (the full one is `npm run chaos`): the toy loop's worker, a child process,
 * is killed with SIGKILL three times at random points and restarted at once. A kill while an agent
 * runs costs the 15 s agent heartbeat timeout, so this file takes ~40–80 s here. Correctness only, no
 * timing: the waits below are generous, as a loaded two-core machine can double the time.
 * The executor here sets x to the session number: an agent run interrupted by a kill is run again
 * (at least once), and `npm run chaos` shows what a re-run that adds one does to the history.
 */

let connection: Connection;
let client: Client;
beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
});
afterAll(async () => {
  await connection?.close();
});

describe.concurrent('chaos', () => {
  test('a loop whose worker is SIGKILLed three times completes with the flags, files and metrics of a loop without kills', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const common = {
      client,
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
      bundlePath: inject('workflowBundlePath'),
      parentDir: await testdir({}, 'loop-station-chaos-'),
      sessions: 8,
      seed,
      timeoutMs: 240_000,
      idempotentExecutor: true,
    };
    // The reference runs beside the chaos run, on a worker of its own that is never killed.
    const [reference, chaos] = await Promise.all([
      runChaos({ ...common, taskQueue: `chaos-ref-${randomUUID()}`, kills: 0 }),
      runChaos({ ...common, taskQueue: `chaos-${randomUUID()}`, kills: 3 }),
    ]);
    const audit = { seed, kills: chaos.kills.map((k) => k.after) };
    expect({ ...audit, kills: chaos.kills.length }).toEqual({ ...audit, kills: 3 });
    expect(chaos.result.sessions).toBe(8);
    expect(chaos.result.stopReason).toBe('budget_sessions');
    expect({ ...audit, flagProblems: chaos.flagProblems }).toEqual({ ...audit, flagProblems: [] });
    expect({ ...audit, overwritten: chaos.overwritten, vanished: chaos.vanished }).toEqual({
      ...audit,
      overwritten: [],
      vanished: [],
    });
    expect(chaos.flagsSeen).toBe(reference.flagsSeen);
    expect({ ...audit, errors: chaos.validateErrors.map((f) => `${f.code} ${f.file}: ${f.message}`) }).toEqual({
      ...audit,
      errors: [],
    });
    expect({ ...audit, leftovers: chaos.leftovers }).toEqual({ ...audit, leftovers: [] });
    expect({ ...audit, history: chaos.result.history }).toEqual({ ...audit, history: reference.result.history });
    expect(reference.result.history.map((h) => h.value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  }, 300_000);

  // Each aimed kill runs beside the others (own task queue, own worker process): the retry must
  // neither refuse the loop's own frame lock nor run a finished or running executor a second time.
  for (const kill of AIMED_KILLS) {
    test(`a SIGKILL aimed at the ${kill.name} leaves the loop as without it`, async () => {
      const outcome = await runAimedKill(
        {
          client,
          address: inject('temporalAddress'),
          namespace: inject('temporalNamespace'),
          bundlePath: inject('workflowBundlePath'),
          parentDir: await testdir({}, 'loop-station-aimed-'),
          taskQueue: `aimed-${randomUUID()}`,
          sessions: 2,
          timeoutMs: 240_000,
        },
        kill,
      );
      expect(outcome.ok, outcome.detail).toBe(true);
    }, 300_000);
  }
});
