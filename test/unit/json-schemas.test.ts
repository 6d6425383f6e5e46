import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { renderJsonSchemas } from '../../protocol/json-schemas.js';

const DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

test('the committed schemas/*.schema.json match the zod schemas (else run npm run schemas)', () => {
  const generated = renderJsonSchemas();
  const committed = new Map(
    readdirSync(DIR)
      .filter((f) => f.endsWith('.schema.json'))
      .map((f) => [f, readFileSync(`${DIR}${f}`, 'utf8')]),
  );
  const stale = [...new Set([...generated.keys(), ...committed.keys()])]
    .filter((f) => generated.get(f) !== committed.get(f))
    .sort();
  expect(stale, 'schemas/ is stale: run npm run schemas').toEqual([]);
});

test('the loop spec schema leaves defaulted fields optional, as a person writes it', () => {
  const spec = JSON.parse(renderJsonSchemas().get('loop-spec.schema.json')!) as { required: string[] };
  expect(spec.required).toEqual(['name', 'root', 'goal', 'budget', 'evidence', 'executor']);
});

test('the flag name and review record schemas are the text grammars, as patterns an editor can apply', () => {
  const matches = (file: string, text: string) => {
    const { type, pattern } = JSON.parse(renderJsonSchemas().get(file)!) as { type: string; pattern: string };
    return type === 'string' && new RegExp(pattern, 'u').test(text);
  };
  expect([
    matches('flag-name.schema.json', 'CLAUDE-SESSION007-REVIEWER-HEARTBEAT-3.flag'),
    matches('flag-name.schema.json', 'CLAUDE-SESSION07-REVIEWER-DONE.flag'),
    matches('review-record.schema.json', 'REVIEW_START_TIMEOUT'),
    matches('review-record.schema.json', 'REVIEW_CONSUMED:CLAUDE'),
    matches('review-record.schema.json', 'REVIEW_CONSUMED'),
  ]).toEqual([true, false, true, true, false]);
});
