import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { isAlive } from '../activities/agents/process-tree.js';
import { ROOT, transpileRuntime } from '../scripts/runtime-layout.js';
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
    /** The CLI's compiled entry (`<repo>/.test-cli-<pid>/cli/main.js`): what test/helpers/cli.ts runs. */
    cliEntry: string;
  }
}

/**
 * The CLI compiled once for this run. Tests spawn it a few hundred times: run from the TypeScript
 * sources through tsx, each start costs about 0.4 s more CPU. It sits one folder below the
 * repository, as dist/ does, so it finds skills/ and examples/ the same way; a folder of its own per
 * run, so a concurrent `npm pack` (package.test.ts rebuilds dist/) or another run cannot change it.
 */
async function compileCli(): Promise<{ entry: string; again: () => Promise<void>; remove: () => Promise<void> }> {
  for (const name of await readdir(ROOT)) {
    const pid = /^\.test-cli-(\d+)$/.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) await rm(join(ROOT, name), { recursive: true, force: true });
  }
  const dir = join(ROOT, `.test-cli-${process.pid}`);
  await transpileRuntime(dir);
  return {
    entry: join(dir, 'cli', 'main.js'),
    again: () => transpileRuntime(dir),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
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
  const cli = await compileCli();
  const dir = await mkdtemp(join(tmpdir(), 'loop-station-bundle-'));
  const code = await buildWorkflowBundleCode();
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);
  // In watch mode, a rerun after an edit gets the edited CLI and workflows.
  project.onTestsRerun(async () => {
    await cli.again();
    await writeFile(workflowBundlePath, await buildWorkflowBundleCode());
  });
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  project.provide('temporalBinary', binary.path);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('temporalUiUrl', server.uiUrl ?? '');
  project.provide('cliEntry', cli.entry);
  return async () => {
    await server.stop();
    await cli.remove();
  };
}
