import { describe, expect, test } from 'vitest';
import { CODEX_PRICES, codexCostUsd, codexPrice, DEFAULT_MODELS, modelFor } from './models.js';

describe('models', () => {
  test("an agent's model is its spec's, else its kind's default; shell and external have none", () => {
    expect(modelFor('codex', null)).toBe(DEFAULT_MODELS.codex);
    expect(modelFor('claude', null)).toBe(DEFAULT_MODELS.claude);
    expect(modelFor('codex', 'gpt-5-mini')).toBe('gpt-5-mini');
    expect(modelFor('shell', null)).toBeNull();
  });

  test('the default Codex model has a price: a costUsd budget sees the executor out of the box', () => {
    expect(CODEX_PRICES[DEFAULT_MODELS.codex]).toBeDefined();
  });
});

describe('Codex cost from the price table', () => {
  const price = { input: 1.25, cachedInput: 0.125, output: 10 };

  test('uncached input, cached input and output each at their price, per million tokens', () => {
    // 1M input of which 900k cached, 100k output: 0.1M × 1.25 + 0.9M × 0.125 + 0.1M × 10.
    expect(codexCostUsd({ input: 1_000_000, cached: 900_000, output: 100_000 }, price)).toBeCloseTo(
      0.125 + 0.1125 + 1,
      9,
    );
    expect(codexCostUsd({ input: 2700, cached: 1500, output: 140 }, price)).toBe(0.003088);
  });

  test("the agent's price: wins over the table; an unknown model without one costs 0", () => {
    expect(codexPrice('gpt-5-codex', undefined)).toEqual(CODEX_PRICES['gpt-5-codex']);
    expect(codexPrice('gpt-5-codex', { input: 2, cachedInput: 1, output: 3 })).toEqual({
      input: 2,
      cachedInput: 1,
      output: 3,
    });
    expect(codexPrice('my-finetune', undefined)).toBeNull();
    expect(codexCostUsd({ input: 1e6, cached: 0, output: 1e6 }, null)).toBe(0);
  });
});
