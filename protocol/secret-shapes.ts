/**
 * Credentials pasted where a loop spec holds only text (a goal, a command, an env name, a webhook):
 * a spec is the workflow's input, kept in its history, in contract.json and in FRAME.md, so a
 * secret in it would leak everywhere. Recognised by the published shapes of the keys researchers
 * hold most; a handful of patterns, where a scanner library's rule packs would add dozens of
 * dependencies for the same few formats.
 */

interface SecretShape {
  what: string;
  pattern: RegExp;
}

const SHAPES: readonly SecretShape[] = [
  { what: 'an Anthropic API key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/ },
  { what: 'an OpenAI API key', pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/ },
  { what: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})/ },
  { what: 'a Hugging Face token', pattern: /\bhf_[A-Za-z0-9]{30,}/ },
  { what: 'a Stripe key', pattern: /\b[rs]k_live_[A-Za-z0-9]{20,}/ },
  { what: 'a Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { what: 'a Slack webhook URL', pattern: /hooks\.slack\.com\/services\/[A-Za-z0-9/]{20,}/ },
  { what: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { what: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}/ },
  { what: 'a password in a URL', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i },
];

export interface SecretFound {
  /** The field, as `executor.command` or `env.0`. */
  path: string;
  what: string;
  /** Enough of it to recognise, never the whole: `sk-pro…, 51 characters`. */
  masked: string;
}

const mask = (secret: string): string => `${secret.slice(0, 6)}…, ${secret.length} characters`;

/** The first secret-shaped text in `text`, if any. */
export function secretShapeIn(text: string): { what: string; masked: string } | undefined {
  for (const { what, pattern } of SHAPES) {
    const m = pattern.exec(text);
    if (m) return { what, masked: mask(m[0]) };
  }
  return undefined;
}

/** Every string value (and key) of a parsed spec that holds something shaped like a credential. */
export function secretsInSpec(value: unknown, path: readonly (string | number)[] = []): SecretFound[] {
  const at = (p: readonly (string | number)[]) => (p.length ? p.join('.') : '(top level)');
  if (typeof value === 'string') {
    const found = secretShapeIn(value);
    return found ? [{ path: at(path), ...found }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => secretsInSpec(v, [...path, i]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => {
      const inKey = secretShapeIn(k);
      // A key is named by its mask too: the path is printed.
      const key = inKey ? `<a key: ${inKey.masked}>` : k;
      return [...(inKey ? [{ path: at([...path, key]), ...inKey }] : []), ...secretsInSpec(v, [...path, key])];
    });
  return [];
}

/** The refusal line for one found secret, and the fix every such refusal shares. */
export const secretLine = (file: string, s: SecretFound): string =>
  `${file}: ${s.path}: holds what looks like ${s.what} (${s.masked}); a loop spec is kept in the workflow's history, contract.json and FRAME.md`;
export const SECRET_FIX =
  "remove it from the spec: set it in the worker's environment and name the variable under env (env: [OPENAI_API_KEY]); then revoke the key if this file was shared";
