/**
 * Builds the workflow bundle (run by worker/workflow-bundle.ts in its own process, so webpack's
 * memory never stays in a worker):
 *   node [--import tsx] scripts/build-workflow-bundle.(ts|js) <out.js>
 *   node dist/scripts/build-workflow-bundle.js --prebuilt    (npm run build: the package's own bundle)
 */
import { writePrebuiltBundle, writeWorkflowBundle } from '../worker/workflow-bundle.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: build-workflow-bundle <out.js> | --prebuilt\n');
  process.exitCode = 2;
} else if (out === '--prebuilt') {
  const { path, hash } = await writePrebuiltBundle();
  process.stderr.write(`wrote ${path} (sources ${hash})\n`);
} else {
  await writeWorkflowBundle(out);
}
