/**
 * Credentials pasted where a loop spec holds only text (a goal, a command, an env name, a webhook):
 * a spec is the workflow's input, kept in its history, in contract.json and in FRAME.md, so a
 * secret in it would leak everywhere. Recognised by the published shapes of the keys researchers
 * hold most; a handful of patterns, where a scanner library's rule packs would add dozens of
 * dependencies for the same few formats. The same shapes are redacted from agent text the engine
 * records and the report and dashboard show (redactSecretShapes).
 */

interface SecretShape {
  what: string;
  /**
   * The credential's shape. Named groups `before` and `after`, where present, are context kept
   * readable when it is redacted (a URL's scheme, user and host around its password).
   */
  pattern: RegExp;
}

/**
 * What may come before a key: nothing, a character that is no word character, or a JSON escape
 * (`\n`, `\u003c`) of a JSONL event line, whose letter would otherwise hide the word boundary.
 */
const WORD_START = String.raw`(?:^|[^A-Za-z0-9_]|\\[nrt]|\\u[0-9A-Fa-f]{4})`;

/**
 * A key's pattern source: `prefix` where a word starts, then `rest`. The prefix is matched first and
 * its start checked behind it: a search then scans for the literal, 20 times faster than one that
 * tests a leading boundary at every position.
 */
const key = (prefix: string, rest: string): string => `(?:${prefix})(?<=${WORD_START}(?:${prefix}))${rest}`;

/** A shape from its regex source; every quantifier is bounded or stops at a delimiter, so matching stays linear. */
const shape = (what: string, source: string, flags = ''): SecretShape => ({ what, pattern: new RegExp(source, flags) });

const SHAPES: readonly SecretShape[] = [
  shape('an Anthropic API key', key('sk-ant-', '[A-Za-z0-9_-]{20,}')),
  shape('an OpenAI API key', key('sk-', '(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}')),
  shape('a GitHub token', `${key('gh[pousr]_', '[A-Za-z0-9]{30,}')}|${key('github_pat_', '[A-Za-z0-9_]{40,}')}`),
  shape('a Hugging Face token', key('hf_', '[A-Za-z0-9]{30,}')),
  shape('a Stripe key', key('[rs]k_live_', '[A-Za-z0-9]{20,}')),
  shape('a Slack token', key('xox[abprs]-', '[A-Za-z0-9-]{10,}')),
  shape('a Slack webhook URL', String.raw`hooks\.slack\.com\/services\/[A-Za-z0-9/]{20,}`),
  shape('an AWS access key id', key('AKIA|ASIA', String.raw`[0-9A-Z]{16}\b`)),
  // A Google key is 39 characters: one followed by more key characters is something else.
  shape('a Google API key', key('AIza', '[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])')),
  // userinfo ends at / ? # (RFC 3986) and never holds a space, quote or angle bracket, which end a URL in text
  // and JSON; the scheme is bounded so a long run of letters and dots is not searched from each of its positions.
  shape(
    'a password in a URL',
    String.raw`(?<before>\b[a-z][a-z0-9+.-]{0,31}:\/\/[^/?#\s:@"<>\x60]+:)[^/?#\s@"<>\x60]+(?<after>@)`,
    'i',
  ),
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

/** What replaces a credential-shaped match: its kind, never the text; the space keeps it out of every shape. */
export const shapeMarker = (what: string): string => `[redacted: ${what}]`;

/** The shapes' patterns made global, compiled once: redaction replaces every match, not the first. */
const GLOBAL_SHAPES = SHAPES.map(({ what, pattern }) => ({
  what,
  pattern: new RegExp(pattern.source, `${pattern.flags}g`),
}));

/**
 * `text` with every credential-shaped match replaced by `[redacted: <what>]` (of a URL, only the
 * password), for agent text that is shown or recorded: a key an agent read from a file or a tool
 * and wrote down is none of the values it was given. Idempotent: no marker matches a shape, and
 * none makes the text beside it match one.
 */
export function redactSecretShapes(text: string): string {
  let out = text;
  for (const { what, pattern } of GLOBAL_SHAPES) {
    out = out.replace(pattern, (...args: unknown[]) => {
      const groups = args.at(-1);
      const { before = '', after = '' } =
        typeof groups === 'object' && groups !== null ? (groups as { before?: string; after?: string }) : {};
      return `${before}${shapeMarker(what)}${after}`;
    });
  }
  return out;
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
