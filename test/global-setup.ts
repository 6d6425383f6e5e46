import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { findFreePorts, startDevServer } from '../server/dev-server.js';
import { ensureTemporalBinary } from '../server/temporal-binary.js';
import { WORKFLOWS_PATH } from '../worker/create-worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalBinary: string;
    workflowBundlePath: string;
    temporalUiUrl: string;
  }
}

/**
 * One real Temporal dev server for the whole integration run (notes/TEMPORAL.md §3), found or built
 * by the same resolver as `loop-station server ensure`, on free ports, with the same dynamic config
 * as `loop-station dev`; and the workflow bundle built once, so each test's worker starts in ms.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[temporal] ${line}\n`);
  const binary = await ensureTemporalBinary({ log });
  const [port, uiPort] = await findFreePorts(2);
  const server = await startDevServer({ binary: binary.path, port: port!, uiPort: uiPort!, namespace: 'default', healthDeadlineMs: 60_000 });
  const dir = await mkdtemp(join(tmpdir(), 'loop-station-bundle-'));
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn: log, error: log } });
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  project.provide('temporalBinary', binary.path);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('temporalUiUrl', server.uiUrl ?? '');
  return async () => {
    await server.stop();
  };
}
