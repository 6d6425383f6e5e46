/**
 * Redaction of secret values in what agents print (docs/architecture.md#secrets: no secret in history, flags or logs).
 * An agent is given the values of the variables its spec allows; whatever it echoes comes back in
 * output tails, messages and the files the engine reads, so every string that leaves an activity
 * for Temporal goes through a redactor first.
 */

/** Key variables redacted whenever the worker has them, allowed or not. */
export const KEY_VARIABLES = [
  'CODEX_API_KEY',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'TEMPORAL_API_KEY',
] as const;

/** Values shorter than this are left alone: `1`, `true`, `en_US` would match all over ordinary text. */
export const MIN_SECRET_CHARS = 8;

export type Redactor = (text: string) => string;

/**
 * Replaces the value of each variable in `names` (and of KEY_VARIABLES) found in `source` by
 * `[redacted:<NAME>]`, longest value first so a value holding another is replaced whole. A value
 * inside a JSON event line is escaped there, so its escaped form is replaced too.
 */
export function secretRedactor(names: readonly string[], source: NodeJS.ProcessEnv = process.env): Redactor {
  const nameOf = new Map<string, string>();
  for (const name of new Set([...names, ...KEY_VARIABLES])) {
    const value = source[name];
    if (value === undefined || value.length < MIN_SECRET_CHARS) continue;
    for (const form of [value, JSON.stringify(value).slice(1, -1)]) if (!nameOf.has(form)) nameOf.set(form, name);
  }
  if (nameOf.size === 0) return (text) => text;
  const values = [...nameOf.keys()].sort((a, b) => b.length - a.length);
  // One pass over the text: a marker already written is never matched again.
  const pattern = new RegExp(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => text.replace(pattern, (found) => `[redacted:${nameOf.get(found)!}]`);
}

/** A copy of a JSON value with `redact` applied to every string in it (keys stay). */
export function redactStrings<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactStrings(item, redact)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v, redact)])) as T;
  }
  return value;
}
