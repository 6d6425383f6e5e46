import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { compileCheckout } from '../scripts/checkout-cli.mjs';
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
    /**
     * The CLI's compiled entry, `<repo>/.loop-station/cli/<hash>/cli/main.js`: the tree the checkout's
     * bin/loop-station.mjs runs (scripts/checkout-cli.mjs), compiled here once; test/helpers/cli.ts
     * starts it directly, without bin's hashing of the sources at each of its few hundred starts.
     */
    cliEntry: string;
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
  const cliEntry = compileCheckout();
  const dir = await mkdtemp(join(tmpdir(), 'loop-station-bundle-'));
  const code = await buildWorkflowBundleCode();
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);
  // In watch mode, a rerun after an edit gets the edited CLI and workflows.
  project.onTestsRerun(async () => {
    project.provide('cliEntry', compileCheckout());
    await writeFile(workflowBundlePath, await buildWorkflowBundleCode());
  });
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  project.provide('temporalBinary', binary.path);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('temporalUiUrl', server.uiUrl ?? '');
  project.provide('cliEntry', cliEntry);
  return async () => {
    await server.stop();
  };
}
