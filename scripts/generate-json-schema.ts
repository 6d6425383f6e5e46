// `npm run schemas`: writes schemas/*.schema.json from the zod schemas (the one source).
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemas } from '../protocol/json-schemas.js';

const dir = fileURLToPath(new URL('../schemas/', import.meta.url));
await mkdir(dir, { recursive: true });
for (const [file, text] of renderJsonSchemas()) {
  await writeFile(`${dir}${file}`, text);
  process.stderr.write(`wrote schemas/${file}\n`);
}
