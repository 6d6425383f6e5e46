/**
 * Records workflow histories for the replay tests (test/histories/, replayed on every test run),
 * run on a throwaway dev server. Scenario `toy` (the default): a toy loop with a reviewer,
 * continue-as-new and a redirect. Scenario `control`: every human message as update and signal
 * (pause, resume, extendBudget while a session runs, approve, a payload-less stop, refused
 * signals), a failing notifier, a protected-file repair and a restore, and continue-as-new.
 * Scenario `review`: one session whose gate holds a managed reviewer, an external one that times
 * out, an external one that writes its flags, and a stranger's flag the supervisor repairs.
 * Scenario `overnight`: failed agent runs (test/fixtures/agents/flaky.mjs through the test seam
 * test/helpers/scripted-failures.ts): a transient retry, a usage wait whose reset has passed, a required reviewer's usage wait, a
 * supervisor agent's repair turn and an early stop answered by askTimeout, a run that needs a
 * human resumed, needs_code_variant measured, a stall resumed, an executor thread carried.
 * Scenario `stop-now`: a stop --now update while the executor (test/fixtures/agents/bash-tree.sh
 * with a TERM trap) runs a process tree, which the loop ends before it reports the stop.
 * Scenario `evidence`: a baseline whose evidence prints NaN pauses the loop; fixed and resumed, it
 * is measured again; then two sessions whose evidence prints NaN trip the circuit breaker, and a
 * stop ends the pause.
 * Run it after a workflow change that is made compatible with `patched()`; never edit or delete
 * older recordings.
 *
 *   npx tsx scripts/record-history.ts [name] [toy|control|review|overnight|stop-now|evidence]
 */
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { toLoopConfig } from '../protocol/schemas/loop-config.js';
import { LoopSpecSchema } from '../protocol/schemas/loop-spec.js';
import { findFreePorts, startDevServer } from '../server/dev-server.js';
import { ensureTemporalBinary } from '../server/temporal-binary.js';
import { createLoopWorkers } from '../worker/create-worker.js';
import { scriptedFailures } from '../test/helpers/scripted-failures.js';
import {
  approveUpdate,
  externalFlagSignal,
  extendBudgetUpdate,
  pauseSignal,
  redirectSignal,
  redirectUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
  stopSignal,
  stopUpdate,
} from '../workflows/messages.js';
import type { LoopStatus } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';

const SDK_VERSION = '1.24.0';
const agents = fileURLToPath(new URL('../test/fixtures/agents/', import.meta.url));
const historiesDir = fileURLToPath(new URL('../test/histories/', import.meta.url));

type Handle = Awaited<ReturnType<Client['workflow']['start']>>;

/** Polls the status query until `ready` holds (the recording drives the loop through its phases). */
async function waitForStatus(handle: Handle, ready: (s: LoopStatus) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => null);
    if (status && ready(status)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The human side of the `control` scenario, message by message. */
async function driveControl(handle: Handle): Promise<void> {
  // While framing: a pause by signal without payload, and two signals the loop must record as rejected.
  await handle.signal(pauseSignal);
  await handle.signal(redirectSignal, {} as never);
  await handle.signal(externalFlagSignal, { bogus: 1 } as never);
  await waitForStatus(handle, (s) => s.phase === 'paused', 'the pause');
  await handle.executeUpdate(extendBudgetUpdate, { args: [{ sessions: 4, note: 'one more' }] });
  await handle.signal(resumeSignal, { note: 'go on' });
  // Session 1 sleeps: a raised wall clock reaches the running session (its timer starts over).
  await waitForStatus(handle, (s) => s.session === 1 && s.phase === 'executing', 'session 1 to run');
  await handle.executeUpdate(extendBudgetUpdate, { args: [{ wallClock: '3h' }] });
  await waitForStatus(handle, (s) => s.phase === 'awaiting_approval', 'the promote to wait for approval');
  await handle.executeUpdate(approveUpdate, { args: [{ session: 1, note: 'looks right' }] });
  // Session 3 (after continue-as-new) sleeps too: a stop signal without payload ends the loop after it.
  await waitForStatus(handle, (s) => s.session === 3 && s.phase === 'executing', 'session 3 to run');
  await handle.signal(stopSignal as unknown as SignalDefinition<[]>);
}

const externalReview = (agent: string) =>
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

/** The external agents of the `review` scenario: PROMPT reviews, a STRANGER writes a flag, SLOW never starts. */
async function driveReview(root: string): Promise<void> {
  const flags = join(root, 'loop_station/flags/session_001');
  const appear = async (path: string) => {
    const deadline = Date.now() + 120_000;
    while (
      !(await readFile(path).then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await appear(join(flags, 'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag'));
  await writeFile(
    join(flags, 'PROMPT-SESSION001-REVIEWER-RUNNING.flag'),
    'producer: PROMPT\nrole: REVIEWER\nsession: 001\nstatus: RUNNING\n',
  );
  await writeFile(
    join(flags, 'STRANGER-SESSION001-REVIEWER-DONE.flag'),
    'producer: STRANGER\nrole: REVIEWER\nsession: 001\nstatus: DONE\n',
  );
  await appear(join(flags, 'SLOW-SESSION001-REVIEWER-TIMEOUT.flag'));
  await mkdir(join(root, 'loop_station/reviews/session_001'), { recursive: true });
  await writeFile(
    join(root, 'loop_station/reviews/session_001/PROMPT-SESSION001-REVIEWER-DONE.md'),
    externalReview('PROMPT'),
  );
  await writeFile(
    join(flags, 'PROMPT-SESSION001-REVIEWER-DONE.flag'),
    'producer: PROMPT\nrole: REVIEWER\nsession: 001\nstatus: DONE\n',
  );
}

/** The `overnight` scenario's agents (flaky.mjs): one attempt's outcome after another, per role and session. */
const OVERNIGHT_PLAN = {
  EXECUTOR: {
    1: [
      { kind: 'transient', code: 'overloaded', message: 'HTTP 529' },
      { kind: 'usage_limit', code: 'usage_limit', message: 'limit', resetInSeconds: -30 },
      'ok',
    ],
    2: [{ kind: 'needs_human', code: 'insufficient_quota', message: 'quota', fix: 'raise the quota' }, 'ok'],
    3: [{ kind: 'stall', code: 'stall', message: 'silent' }, { variant: { slug: 'wider', x: 9 } }],
  },
  REVIEWER: { 1: [{ kind: 'usage_limit', code: 'usage_limit', message: 'limit', resetInSeconds: 2 }, 'ok'] },
  SUPERVISOR: { 1: [{ decision: 'garbage' }, { decision: 'stop' }], 2: [{ decision: 'needs_code_variant' }] },
};

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'toy-loop';
  const scenario = process.argv[3] ?? 'toy';
  if (!['toy', 'control', 'review', 'overnight', 'stop-now', 'evidence'].includes(scenario))
    throw new Error(`scenario ${scenario}: use toy, control, review, overnight, stop-now or evidence`);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const binary = await ensureTemporalBinary({ log: (l) => process.stderr.write(`${l}\n`) });
  const [port, uiPort] = await findFreePorts(2);
  const server = await startDevServer({ binary: binary.path, port: port!, uiPort: uiPort!, headless: true });
  const root = await realpath(await mkdtemp(join(tmpdir(), 'loop-station-record-')));
  try {
    await mkdir(join(root, 'work'));
    await writeFile(join(root, 'work/x.txt'), '0\n');
    await copyFile(join(agents, 'toy-eval.mjs'), join(root, 'eval.mjs'));
    const taskQueue = 'record-history';
    const control = scenario === 'control';
    // Session 1 promotes (held for approval), 2 edits the protected evaluator (repaired, retire),
    // 3 opens on the restored best; 1 and 3 sleep so messages arrive while they run.
    if (control) await writeFile(join(root, 'plan.json'), JSON.stringify({ sleep: { 1: 4000, 3: 4000 }, touch: [2] }));
    const overnight = scenario === 'overnight';
    if (overnight) await writeFile(join(root, 'flaky-plan.json'), JSON.stringify(OVERNIGHT_PLAN));
    const flaky = `${process.execPath} ${join(agents, 'flaky.mjs')}`;
    const stopNow = scenario === 'stop-now';
    const treeReady = join(root, 'tree.ready');
    const evidenceFails = scenario === 'evidence';
    // The baseline prints what printed.json holds; every session's evidence prints NaN.
    if (evidenceFails) {
      await writeFile(join(root, 'printed.json'), '{"score": NaN, "guard": 1}\n');
      await writeFile(
        join(root, 'eval.sh'),
        'if [ -d loop_station/sessions/session_001 ]; then echo \'{"score": NaN}\'; else cat printed.json; fi\n',
      );
    }
    // Every scenario is the toy loop (a shell executor and reviewer raising x) with its own changes.
    const toyAgent = (name: string, script: string) => ({
      name,
      agent: 'shell' as const,
      command: `${process.execPath} ${join(agents, script)}`,
    });
    const toy = {
      root,
      goal: 'raise x',
      evidence: { command: `${process.execPath} eval.mjs`, metric: 'score', protect: ['guard >= 1'] },
      workspace: ['work/**'],
      protected: ['eval.mjs'],
      executor: toyAgent('toy_exec', 'toy-executor.mjs'),
      reviewers: [toyAgent('toy_rev', 'toy-reviewer.mjs')],
      reviewWait: { startTimeout: '20s', doneTimeout: '30s', heartbeatTimeout: '20s' },
      taskQueue,
    };
    const changes: Record<string, object> = {
      'stop-now': {
        name: 'recorded-stop-now',
        budget: { sessions: 3, perRun: '5m' },
        executor: { name: 'tree', agent: 'shell', command: `bash ${join(agents, 'bash-tree.sh')} ${treeReady} defer` },
        reviewers: [],
      },
      overnight: {
        name: 'recorded-overnight',
        budget: { sessions: 3, perRun: '30s', wallClock: '2h' },
        executor: { name: 'toy_exec', agent: 'shell', command: flaky, continuity: 'thread' },
        supervisor: { name: 'judge', agent: 'shell', command: flaky },
        reviewers: [{ name: 'toy_rev', agent: 'shell', command: flaky }],
        reviewWait: { startTimeout: '20s', doneTimeout: '1s', heartbeatTimeout: '20s' },
        onFailure: { backoff: '500ms' },
        askTimeout: { after: '2s', then: 'continue' },
        notify: { command: `${process.execPath} -e "process.exit(0)"` },
      },
      review: {
        name: 'recorded-review',
        budget: { sessions: 1, perRun: '30s' },
        reviewers: [
          toyAgent('toy_rev', 'toy-reviewer.mjs'),
          { name: 'slow', agent: 'external', required: false },
          { name: 'prompt', agent: 'external' },
        ],
        reviewWait: { startTimeout: '3s', doneTimeout: '60s', heartbeatTimeout: '60s' },
      },
      control: {
        name: 'recorded-control',
        budget: { sessions: 3, perRun: '30s', wallClock: '2h' },
        protected: ['eval.mjs', 'plan.json'],
        askBefore: ['promote'],
        // Every notification fails: the failures become notices carried across continue-as-new.
        notify: { command: `${process.execPath} -e "process.exit(3)"` },
        continueAsNewEvery: 2,
      },
      toy: { name: 'recorded', budget: { sessions: 3, perRun: '30s' }, continueAsNewEvery: 2 },
      evidence: {
        name: 'recorded-evidence',
        budget: { sessions: 4, perRun: '30s' },
        evidence: { command: 'sh eval.sh', metric: 'score', protect: ['guard >= 1'] },
        reviewers: [],
        onFailure: { consecutive: 2, action: 'pause' },
      },
    };
    const spec = LoopSpecSchema.parse({ ...toy, ...changes[scenario] });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const workers = await createLoopWorkers({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      allowRoots: [root],
      ...(overnight ? { wrapActivities: scriptedFailures } : {}),
    });
    const running = workers.run();
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const workflowId = `loop-${name}`;
    const handle = await client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId,
      taskQueue,
      args: [{ config: toLoopConfig(spec, root), localFiles: true }],
    });
    if (control) await driveControl(handle);
    else if (stopNow) {
      await waitForStatus(handle, (s) => s.session === 1 && s.phase === 'executing', 'session 1 to run');
      while (!(await readFile(treeReady, 'utf8').catch(() => ''))) await new Promise((r) => setTimeout(r, 100));
      await handle.executeUpdate(stopUpdate, { args: [{ mode: 'now', reason: 'recorded' }] });
    } else if (scenario === 'review') await driveReview(root);
    else if (evidenceFails) {
      await waitForStatus(handle, (s) => s.phase === 'paused' && s.session === 0, 'the failed baseline to pause');
      await writeFile(join(root, 'printed.json'), '{"score": 0, "guard": 1}\n');
      await handle.executeUpdate(resumeUpdate, { args: [{ note: 'evaluator fixed' }] });
      await waitForStatus(handle, (s) => s.phase === 'paused' && s.session === 2, 'the breaker to pause');
      await handle.executeUpdate(stopUpdate, { args: [{ mode: 'after-session', reason: 'recorded' }] });
    } else if (overnight) {
      await waitForStatus(handle, (s) => s.phase === 'blocked', 'session 2 to wait for a fix');
      await handle.executeUpdate(resumeUpdate, { args: [{ note: 'quota raised' }] });
    } else await handle.executeUpdate(redirectUpdate, { args: [{ note: 'try larger steps' }] });
    await handle.result();
    await mkdir(historiesDir, { recursive: true });
    const written: string[] = [];
    for await (const wf of client.workflow.list({
      query: `WorkflowId = '${workflowId}' OR WorkflowId STARTS_WITH '${workflowId}/'`,
    })) {
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const file = `${name}-${SDK_VERSION}-${wf.workflowId.replace(/^.*\//, '').replace(/^loop-.*/, 'loop')}-${wf.runId.slice(0, 8)}.json`;
      // The workflow id travels with the history: a replay must use it (child ids derive from it).
      await writeFile(
        join(historiesDir, file),
        `${JSON.stringify({ workflowId: wf.workflowId, history: JSON.parse(historyToJSON(history)) as unknown })}\n`,
      );
      written.push(file);
    }
    workers.shutdown();
    await running;
    await connection.close();
    await nativeConnection.close();
    process.stdout.write(`${written.sort().join('\n')}\n`);
  } finally {
    await server.stop();
    // The loop's root: the recording keeps only the histories.
    await rm(root, { recursive: true, force: true });
  }
}

await main();
