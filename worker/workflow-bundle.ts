import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const run = promisify(execFile);

export const WORKFLOWS_PATH = require.resolve('../workflows/index.ts');
const REPO = fileURLToPath(new URL('..', import.meta.url));


/** Everything the bundle is built from: the workflow and protocol sources, and the SDK version. */
async function sourcesHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of ['workflows', 'protocol']) {
    const files = (await readdir(join(REPO, dir), { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();
    for (const file of files) hash.update(file).update(await readFile(join(REPO, dir, file)));
  }
  hash.update((JSON.parse(await readFile(require.resolve('@temporalio/workflow/package.json'), 'utf8')) as { version: string }).version);
  return hash.digest('hex').slice(0, 16);
}

function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'loop-station', 'bundles');
}

/**
 * The workflow bundle for this source tree, built once per content hash into the cache by a
 * separate process (scripts/build-workflow-bundle.ts): webpack and swc then never load into the
 * worker, which keeps ~100 MB of their heap out of a long-running process.
 */
export async function workflowBundlePath(log: (line: string) => void = () => undefined): Promise<string> {
  const path = join(cacheDir(), `workflows-${await sourcesHash()}.js`);
  if (await stat(path).then(() => true, () => false)) return path;
  await mkdir(dirname(path), { recursive: true });
  log(`bundling the workflows into ${path}…`);
  const temp = `${path}.${process.pid}.tmp`;
  await run(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/build-workflow-bundle.ts'), temp], { cwd: REPO });
  await rename(temp, path);
  return path;
}

/** Used by the bundling script (and tests that want the code in memory). */
export async function buildWorkflowBundleCode(): Promise<string> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (m: string) => process.stderr.write(`bundler: ${m}\n`), error: (m: string) => process.stderr.write(`bundler: ${m}\n`) };
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
  return code;
}

export async function writeWorkflowBundle(path: string): Promise<void> {
  await writeFile(path, await buildWorkflowBundleCode());
}
