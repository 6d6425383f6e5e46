import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { describe, expect, test } from 'vitest';
import * as messages from '../../workflows/messages.js';

/**
 * workflows/messages.ts writes its message definitions itself (so the CLI need not load the workflow
 * package): each must be exactly what the SDK's defineUpdate / defineSignal / defineQuery make.
 */
describe('the loop’s message definitions', () => {
  type Definition = { type: 'update' | 'signal' | 'query'; name: string };
  const definitions = (Object.entries(messages) as [string, unknown][]).filter(
    (entry): entry is [string, Definition] => typeof entry[1] === 'object' && entry[1] !== null && 'type' in entry[1],
  );
  const sdk: Record<Definition['type'], (name: string) => unknown> = {
    update: (name) => defineUpdate(name),
    signal: (name) => defineSignal(name),
    query: (name) => defineQuery(name),
  };

  test('cover every kind the loop uses', () => {
    expect(new Set(definitions.map(([, d]) => d.type))).toEqual(new Set(['update', 'signal', 'query']));
    expect(definitions.length).toBeGreaterThanOrEqual(15);
  });

  test.for(definitions.map(([key]) => key))('%s equals the SDK’s definition of its name', (key) => {
    const definition = definitions.find(([k]) => k === key)![1];
    expect(definition).toStrictEqual(sdk[definition.type](definition.name));
  });
});
