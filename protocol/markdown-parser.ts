import markdownIt, { type MarkdownIt } from 'markdown-it';

/**
 * The one Markdown dialect the engine reads agent text in (docs/markdown.md): CommonMark plus GitHub
 * tables and strikethrough; raw HTML is text, never markup; no autolinking of bare URLs, no smart
 * quotes. Links are checked against an allow-list here, before any renderer sees them.
 *
 * Not for workflows/: markdown-it stays out of the workflow bundle (test/workflow-bundle.test.ts).
 */

/** Schemes a link may use; anything else (javascript:, vbscript:, data:, file:, …) is dropped. */
export const ALLOWED_SCHEMES: readonly string[] = ['http', 'https', 'mailto'];

export type LinkTarget =
  | { kind: 'absolute'; href: string }
  | { kind: 'relative'; path: string; suffix: string }
  | { kind: 'fragment'; href: string }
  | { kind: 'blocked'; reason: string };

// Browsers drop ASCII tabs and newlines anywhere in a URL and leading C0 controls and spaces, so
// `java\tscript:` is `javascript:` to them: look at the scheme the way they will.
const IGNORED_BY_BROWSERS = /[\u0000-\u0020]/g;
const SCHEME_RE = /^([a-z][a-z0-9+.-]*):/i;

/**
 * What a link destination is, as markdown-it hands it over (entities decoded, percent-encoded):
 * an allowed absolute URL, a path relative to the file it was written in, a fragment, or blocked.
 */
export function classifyLink(url: string): LinkTarget {
  const probe = url.replace(IGNORED_BY_BROWSERS, '');
  const scheme = SCHEME_RE.exec(probe)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    return ALLOWED_SCHEMES.includes(scheme)
      ? { kind: 'absolute', href: url.trim() }
      : { kind: 'blocked', reason: `${scheme}: links are not followed` };
  }
  if (probe.startsWith('#')) return { kind: 'fragment', href: url.trim() };
  if (probe.startsWith('/') || probe.startsWith('\\'))
    return { kind: 'blocked', reason: 'absolute paths are not followed' };
  const at = url.search(/[?#]/);
  const path = (at < 0 ? url : url.slice(0, at)).trim();
  // `a:b/c` has no scheme by the URL grammar, but browsers disagree on such first segments.
  if (path.split('/')[0]!.includes(':')) return { kind: 'blocked', reason: 'a colon in the first path segment' };
  return { kind: 'relative', path, suffix: at < 0 ? '' : url.slice(at).trim() };
}

/** A markdown-it in the engine's dialect; renderers add their own rules to the instance they get. */
export function createMarkdownIt(): MarkdownIt {
  const md = markdownIt('default', { html: false, linkify: false, typographer: false });
  md.validateLink = (url) => classifyLink(url).kind !== 'blocked';
  return md;
}
