import { expandEnv, KEY_VARIABLES, looksSecret, selectEnv } from '../../protocol/env-presets.js';
import { redactSecretShapes } from '../../protocol/secret-shapes.js';

/**
 * Redaction of secret values in what agents print (docs/architecture.md#secrets: no secret in history, flags or logs).
 * An agent is given the values of the variables its spec allows; whatever it echoes comes back in
 * output tails, messages and the files the engine reads, so every string that leaves an activity
 * for Temporal goes through a redactor first. Secrets are what their names say they are (keys,
 * tokens, secrets, passwords: protocol/env-presets.ts), the well-known provider keys, and the names
 * the spec marks `secret:NAME`; paths and settings (`CODEX_HOME=/home/u/.codex`) stay readable. A
 * password inside a URL (a proxy's `http://user:pass@host`) is redacted wherever the URL is allowed.
 * Then text shaped like a credential (protocol/secret-shapes.ts) is redacted too: a key the agent
 * read from a file or a tool's output is none of the values it was given.
 */

export { KEY_VARIABLES };

/** Values shorter than this are left alone: `1`, `true`, `en_US` would match all over ordinary text. */
export const MIN_SECRET_CHARS = 8;

export type Redactor = (text: string) => string;

/** The password of a URL with credentials (`scheme://user:password@host`), or undefined. */
function urlPassword(value: string): string | undefined {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:\s]*:([^/@\s]+)@/.exec(value);
  return match?.[1];
}

/**
 * Replaces the secret values among the variables `entries` allow (an `env:` list: names, prefixes,
 * presets, `secret:NAME`), and those of KEY_VARIABLES, found in `source`, by `[redacted:<NAME>]`,
 * longest value first so a value holding another is replaced whole. A value inside a JSON event
 * line is escaped there, so its escaped form is replaced too. What is left shaped like a credential
 * becomes `[redacted: <what>]` (redactSecretShapes).
 */
export function secretRedactor(entries: readonly string[], source: NodeJS.ProcessEnv = process.env): Redactor {
  const marked = new Set(selectEnv(entries).secret);
  const allowed = expandEnv(entries, Object.keys(source));
  const nameOf = new Map<string, string>();
  const add = (value: string, name: string) => {
    if (value.length < MIN_SECRET_CHARS) return;
    for (const form of [value, JSON.stringify(value).slice(1, -1)]) if (!nameOf.has(form)) nameOf.set(form, name);
  };
  for (const name of new Set([...allowed, ...KEY_VARIABLES])) {
    const value = source[name];
    if (value === undefined) continue;
    if (marked.has(name) || looksSecret(name) || (KEY_VARIABLES as readonly string[]).includes(name)) add(value, name);
    else {
      const password = urlPassword(value);
      if (password !== undefined) add(password, `${name} password`);
    }
  }
  if (nameOf.size === 0) return redactSecretShapes;
  const values = [...nameOf.keys()].sort((a, b) => b.length - a.length);
  // One pass over the text: a marker already written is never matched again, by this pattern or a shape.
  const pattern = new RegExp(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => redactSecretShapes(text.replace(pattern, (found) => `[redacted:${nameOf.get(found)!}]`));
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
