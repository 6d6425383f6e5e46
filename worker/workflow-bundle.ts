import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CODE_ROOT, COMPILED, codePath } from '../server/package-paths.js';

const require = createRequire(import.meta.url);
const run = promisify(execFile);

/** The workflows' entry: `workflows/index.ts` in a checkout, `dist/workflows/index.js` in a package. */
export const WORKFLOWS_PATH = codePath('workflows', 'index');

/**
 * The bundle `npm pack` builds (prepack, scripts/build.ts) next to the compiled code, with the hash
 * of what it was built from. Temporal's bundler compiles `.ts` only outside node_modules, and an
 * installed package has no `.ts` anyway: the package ships its bundle.
 */
export const PREBUILT_BUNDLE = join(CODE_ROOT, 'workflow-bundle.js');
const PREBUILT_MANIFEST = join(CODE_ROOT, 'workflow-bundle.json');

interface BundleManifest {
  /** sourcesHash() of the code the bundle was built from. */
  hash: string;
}

const isSource = (file: string) =>
  COMPILED ? file.endsWith('.js') : file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts');

/** How the bundler is set up here (buildWorkflowBundleCode): raised when that changes, so no bundle cached before is used. */
const BUNDLER_SETUP = 2;

/** Everything the bundle is built from: the workflow and protocol modules that run, the SDK version and BUNDLER_SETUP. */
export async function sourcesHash(): Promise<string> {
  const hash = createHash('sha256').update(`bundler setup ${BUNDLER_SETUP}\n`);
  for (const dir of ['workflows', 'protocol']) {
    const files = (await readdir(join(CODE_ROOT, dir), { recursive: true })).filter(isSource).sort();
    for (const file of files) hash.update(file).update(await readFile(join(CODE_ROOT, dir, file)));
  }
  const sdk = require.resolve('@temporalio/workflow/package.json');
  hash.update((JSON.parse(await readFile(sdk, 'utf8')) as { version: string }).version);
  return hash.digest('hex').slice(0, 16);
}

function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'loop-station', 'bundles');
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function prebuiltHash(): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(PREBUILT_MANIFEST, 'utf8')) as BundleManifest).hash;
  } catch {
    return undefined;
  }
}

/**
 * The workflow bundle for the code that runs: the package's prebuilt bundle when its hash matches,
 * else one built once per content hash into the cache by a separate process
 * (scripts/build-workflow-bundle.ts), so webpack and swc never load into the worker, which keeps
 * ~100 MB of their heap out of a long-running process. A checkout has no prebuilt bundle.
 */
export async function workflowBundlePath(log: (line: string) => void = () => undefined): Promise<string> {
  const hash = await sourcesHash();
  if ((await prebuiltHash()) === hash && (await exists(PREBUILT_BUNDLE))) return PREBUILT_BUNDLE;
  const path = join(cacheDir(), `workflows-${hash}.js`);
  if (await exists(path)) return path;
  await mkdir(dirname(path), { recursive: true });
  log(`bundling the workflows into ${path}…`);
  const temp = `${path}.${process.pid}.tmp`;
  const script = codePath('scripts', 'build-workflow-bundle');
  await run(process.execPath, [...(COMPILED ? [] : ['--import', 'tsx']), script, temp], { cwd: CODE_ROOT });
  await rename(temp, path);
  return path;
}

/** Used by the bundling script (and tests that want the code in memory). */
export async function buildWorkflowBundleCode(): Promise<string> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const say = (m: string) => process.stderr.write(`bundler: ${m}\n`);
  const quiet = {
    log: () => undefined,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: say,
    error: say,
  };
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quiet,
    // Compiled, the workflows are ES modules ("type": "module"), where webpack leaves a `require`
    // alone, and message-schemas.js's lazy one threw "require is not defined" at a loop's first
    // message. Parsed as "auto" (as the .ts sources are), that require is webpack's.
    webpackConfigHook: (config) => ({
      ...config,
      module: {
        ...config.module,
        rules: [
          ...(config.module?.rules ?? []),
          {
            test: /\.js$/,
            include: ['workflows', 'protocol'].map((dir) => join(CODE_ROOT, dir)),
            type: 'javascript/auto',
          },
        ],
      },
    }),
  });
  return code;
}

export async function writeWorkflowBundle(path: string): Promise<void> {
  await writeFile(path, await buildWorkflowBundleCode());
}

/** The package's own bundle and its manifest (`npm run build`, from the compiled code). */
export async function writePrebuiltBundle(): Promise<{ path: string; hash: string }> {
  const hash = await sourcesHash();
  await writeWorkflowBundle(PREBUILT_BUNDLE);
  await writeFile(PREBUILT_MANIFEST, `${JSON.stringify({ hash } satisfies BundleManifest)}\n`);
  return { path: PREBUILT_BUNDLE, hash };
}
