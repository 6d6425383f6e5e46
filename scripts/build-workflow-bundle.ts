/**
 * Builds the workflow bundle into a file (run by worker/workflow-bundle.ts in its own process, so
 * webpack's memory never stays in a worker):  node --import tsx scripts/build-workflow-bundle.ts <out.js>
 */
import { writeWorkflowBundle } from '../worker/workflow-bundle.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: build-workflow-bundle.ts <out.js>\n');
  process.exitCode = 2;
} else {
  await writeWorkflowBundle(out);
}
