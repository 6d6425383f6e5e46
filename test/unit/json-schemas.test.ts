import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { renderJsonSchemas } from '../../protocol/json-schemas.js';

const DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

test('the committed schemas/*.schema.json match the zod schemas (else run npm run schemas)', () => {
  const generated = renderJsonSchemas();
  const committed = new Map(readdirSync(DIR).filter((f) => f.endsWith('.schema.json')).map((f) => [f, readFileSync(`${DIR}${f}`, 'utf8')]));
  const stale = [...new Set([...generated.keys(), ...committed.keys()])].filter((f) => generated.get(f) !== committed.get(f)).sort();
  expect(stale, 'schemas/ is stale: run npm run schemas').toEqual([]);
});

test('the loop spec schema leaves defaulted fields optional, as a person writes it', () => {
  const spec = JSON.parse(renderJsonSchemas().get('loop-spec.schema.json')!) as { required: string[] };
  expect(spec.required).toEqual(['name', 'root', 'goal', 'budget', 'evidence', 'executor']);
});
