// `npm run schemas` (after the JSON Schemas): writes docs/loop-spec.md from the loop spec's schema and its template.
import { writeFile } from 'node:fs/promises';
import { OUTPUT_PATH, renderLoopSpecDocs } from './spec-docs.js';

await writeFile(OUTPUT_PATH, renderLoopSpecDocs());
process.stderr.write('wrote docs/loop-spec.md\n');
