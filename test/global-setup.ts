import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findFreePorts, startDevServer } from '../server/dev-server.js';
import { ensureTemporalBinary } from '../server/temporal-binary.js';
import { buildWorkflowBundleCode } from '../worker/workflow-bundle.js';

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
 * One real Temporal dev server for the whole integration run (docs/architecture.md#tests), found or built
 * by the same resolver as `loop-station server ensure`, on free ports, with the same dynamic config
 * as `loop-station dev`; and the workflow bundle built once, so each test's worker starts in ms.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[temporal] ${line}\n`);
  const binary = await ensureTemporalBinary({ log });
  // Free ports can be taken between our check and the server's bind, and the server picks its own
  // HTTP and metrics ports too: on such a race, try again with new ports.
  let server;
  for (let attempt = 1; ; attempt++) {
    const [port, uiPort] = await findFreePorts(2);
    try {
      server = await startDevServer({
        binary: binary.path,
        port: port!,
        uiPort: uiPort!,
        namespace: 'default',
        healthDeadlineMs: 60_000,
      });
      break;
    } catch (error) {
      if (
        attempt >= 3 ||
        !/address already in use|port/i.test(
          String((error as Error).message) + String((error as { output?: string }).output ?? ''),
        )
      )
        throw error;
      log(`dev server start failed on a port race (attempt ${attempt}); retrying on new ports`);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'loop-station-bundle-'));
  const code = await buildWorkflowBundleCode();
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
