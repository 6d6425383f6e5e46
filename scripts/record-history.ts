/**
 * Records workflow histories for the replay tests (test/histories/, replayed on every test run):
 * a toy loop with a reviewer, an external reviewer flag, continue-as-new and a redirect, run on a
 * throwaway dev server. Run it after a workflow change that is made compatible with `patched()`;
 * never edit or delete older recordings.
 *
 *   npx tsx scripts/record-history.ts [name]
 */
import { copyFile, mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { toLoopConfig } from '../protocol/schemas/loop-config.js';
import { LoopSpecSchema } from '../protocol/schemas/loop-spec.js';
import { findFreePorts, startDevServer } from '../server/dev-server.js';
import { ensureTemporalBinary } from '../server/temporal-binary.js';
import { createLoopWorkers } from '../worker/create-worker.js';
import { redirectUpdate } from '../workflows/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';

const SDK_VERSION = '1.24.0';
const agents = fileURLToPath(new URL('../test/fixtures/agents/', import.meta.url));
const historiesDir = fileURLToPath(new URL('../test/histories/', import.meta.url));

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'toy-loop';
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const binary = await ensureTemporalBinary({ log: (l) => process.stderr.write(`${l}\n`) });
  const [port, uiPort] = await findFreePorts(2);
  const server = await startDevServer({ binary: binary.path, port: port!, uiPort: uiPort!, headless: true });
  try {
    const root = await realpath(await mkdtemp(join(tmpdir(), 'loop-station-record-')));
    await mkdir(join(root, 'work'));
    await writeFile(join(root, 'work/x.txt'), '0\n');
    await copyFile(join(agents, 'toy-eval.mjs'), join(root, 'eval.mjs'));
    const taskQueue = 'record-history';
    const spec = LoopSpecSchema.parse({
      name: 'recorded', root, goal: 'raise x',
      budget: { sessions: 3, perRun: '30s' },
      evidence: { command: `${process.execPath} eval.mjs`, metric: 'score', protect: ['guard >= 1'] },
      workspace: ['work/**'], protected: ['eval.mjs'],
      executor: { name: 'toy_exec', agent: 'shell', command: `${process.execPath} ${join(agents, 'toy-executor.mjs')}` },
      reviewers: [{ name: 'toy_rev', agent: 'shell', command: `${process.execPath} ${join(agents, 'toy-reviewer.mjs')}` }],
      reviewWait: { startTimeout: '20s', doneTimeout: '30s', heartbeatTimeout: '20s' },
      taskQueue, continueAsNewEvery: 2,
    });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const workers = await createLoopWorkers({ connection: nativeConnection, namespace: 'default', taskQueue, allowRoots: [root] });
    const running = workers.run();
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const workflowId = `loop-${name}`;
    const handle = await client.workflow.start<typeof loopWorkflow>('loopWorkflow', { workflowId, taskQueue, args: [{ config: toLoopConfig(spec, root), localFiles: true }] });
    await handle.executeUpdate(redirectUpdate, { args: [{ note: 'try larger steps' }] });
    await handle.result();
    await mkdir(historiesDir, { recursive: true });
    const written: string[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}' OR WorkflowId STARTS_WITH '${workflowId}/'` })) {
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const file = `${name}-${SDK_VERSION}-${wf.workflowId.replace(/^.*\//, '').replace(/^loop-.*/, 'loop')}-${wf.runId.slice(0, 8)}.json`;
      // The workflow id travels with the history: a replay must use it (child ids derive from it).
      await writeFile(join(historiesDir, file), `${JSON.stringify({ workflowId: wf.workflowId, history: JSON.parse(historyToJSON(history)) as unknown })}\n`);
      written.push(file);
    }
    workers.shutdown();
    await running;
    await connection.close();
    await nativeConnection.close();
    process.stdout.write(`${written.sort().join('\n')}\n`);
  } finally {
    await server.stop();
  }
}

await main();
