import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { renderJsonSchemas } from '../../protocol/json-schemas.js';
import { OUTPUT_PATH, renderLoopSpecDocs, type SchemaNode, SpecDocs, TEMPLATE_PATH } from '../../scripts/spec-docs.js';

const schema = () => JSON.parse(renderJsonSchemas().get('loop-spec.schema.json')!) as SchemaNode;
const template = () => readFileSync(TEMPLATE_PATH, 'utf8');

describe('docs/loop-spec.md', () => {
  test('is what the zod schema and its template render (else run npm run schemas)', () => {
    expect(readFileSync(OUTPUT_PATH, 'utf8'), 'docs/loop-spec.md is stale: run npm run schemas').toBe(
      renderLoopSpecDocs(),
    );
  });

  test('lists every field of the spec, agent options included', () => {
    const text = renderLoopSpecDocs();
    const s = schema();
    const fields = [
      ...Object.keys(s.properties!),
      ...Object.keys(s.properties!.budget!.properties!).map((k) => `budget.${k}`),
      ...Object.keys(s.properties!.evidence!.properties!).map((k) => `evidence.${k}`),
      ...s.properties!.executor!.oneOf!.flatMap((kind) => Object.keys(kind.properties!)),
    ];
    expect(fields.filter((f) => !text.includes(`| \`${f}\` |`))).toEqual([]);
  });

  test('refuses a field without a description of its own in the zod schema', () => {
    const s = schema();
    delete s.properties!.budget!.properties!.tokens!.description;
    expect(() => new SpecDocs(s).render(template())).toThrow(/budget\.tokens has no description of its own/);
  });

  test('refuses a template without a section for an object field', () => {
    expect(() => new SpecDocs(schema()).render(template().replace('<!-- loop-spec:fields notify -->', ''))).toThrow(
      /no table for notify/,
    );
  });
});
