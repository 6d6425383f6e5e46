import type { AgentKind } from './vocabulary.js';

/**
 * Models are configuration (docs/agent-setup.md#models): the model an agent CLI is given when its
 * spec names none, and the prices Codex's cost is computed from (Codex reports tokens, never a
 * cost). One table each, here; the spec overrides both (`model:`, and `price:` on a codex agent).
 */

/** The model of an agent whose spec sets no `model:`; Codex must always be told one. */
export const DEFAULT_MODELS = {
  codex: 'gpt-5-codex',
  /** An alias Claude Code resolves to its current Sonnet. */
  claude: 'sonnet',
} as const satisfies Partial<Record<AgentKind, string>>;

export type ModelledKind = keyof typeof DEFAULT_MODELS;

/** The model a run of this agent uses: its spec's, else the default of its kind; null for kinds without a model. */
export function modelFor(kind: AgentKind, model: string | null): string | null {
  if (model !== null) return model;
  return kind in DEFAULT_MODELS ? DEFAULT_MODELS[kind as ModelledKind] : null;
}

/** US dollars per million tokens: input not from the cache, cached input, output (reasoning included). */
export interface TokenPrice {
  input: number;
  cachedInput: number;
  output: number;
}

/**
 * API list prices of the models Codex runs, in USD per million tokens. Under a ChatGPT login no
 * tokens are billed: the figure is what the run would have cost on the API, which is what a
 * `costUsd` budget then meters. A model missing here costs 0 unless its agent sets `price:`
 * (`loop-station doctor` says so).
 */
export const CODEX_PRICES: Readonly<Record<string, TokenPrice>> = {
  'gpt-5-codex': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5.1': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5.1-codex': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5.1-codex-max': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5.1-codex-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
};

/** The price of a Codex model: the agent's own `price:`, else the table's, else null (unknown). */
export function codexPrice(model: string, override: TokenPrice | undefined): TokenPrice | null {
  return override ?? CODEX_PRICES[model] ?? null;
}

/**
 * Cost in USD of Codex token figures (`input` includes `cached`, Responses API semantics); 0 when
 * the price is unknown. Rounded to a millionth of a dollar so sums stay readable.
 */
export function codexCostUsd(
  tokens: { input: number; cached: number; output: number },
  price: TokenPrice | null,
): number {
  if (price === null) return 0;
  const cached = Math.min(tokens.cached, tokens.input);
  const usd = ((tokens.input - cached) * price.input + cached * price.cachedInput + tokens.output * price.output) / 1e6;
  return Math.round(usd * 1e6) / 1e6;
}
