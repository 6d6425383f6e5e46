import type { Renderer, RendererRule, Token } from 'markdown-it';
import { relativeHref } from './render/html-escape.js';
import { classifyLink, createMarkdownIt } from './markdown-parser.js';
import { rootPath } from './markdown-source.js';

/**
 * Agent Markdown as HTML for a page (the report): lists, code blocks, tables and links as written,
 * every character of text escaped, raw HTML shown as text, links only where they are safe and
 * resolvable. The policy is docs/markdown.md.
 */

// A type, not an interface: markdown-it's Env is an index signature, which only type literals satisfy.
export type MarkdownHtmlOptions = {
  /** Folder of the file the text was read from, relative to the loop root (`loop_station`): relative links resolve against it. */
  sourceDir: string;
  /** From the page to the loop root (`..` for loop_station/report.html); `''` when they are one. */
  hrefBase: string;
  /** Level of the highest heading the text may produce; deeper ones keep their distance. @default 4 */
  minHeading?: number;
};

/** Where a link from text in `sourceDir` points, as an href from the page; null when it is dropped, with why. */
export function resolveHref(
  url: string,
  options: MarkdownHtmlOptions,
): { href: string } | { href: null; reason: string } {
  const target = classifyLink(url);
  if (target.kind === 'blocked') return { href: null, reason: target.reason };
  if (target.kind !== 'relative') return { href: target.href };
  let path: string;
  try {
    path = decodeURIComponent(target.path);
  } catch {
    return { href: null, reason: 'a malformed path' };
  }
  const segments = rootPath(options.sourceDir, path);
  if (segments === undefined) return { href: null, reason: 'the path leads outside the loop folder' };
  const fromRoot = segments.join('/');
  return { href: `${relativeHref(options.hrefBase ? `${options.hrefBase}/${fromRoot}` : fromRoot)}${target.suffix}` };
}

const md = createMarkdownIt();
type Rule = (
  tokens: Token[],
  idx: number,
  opts: Parameters<RendererRule>[2],
  env: MarkdownHtmlOptions,
  self: Renderer,
) => string;
// render() below always passes MarkdownHtmlOptions as the env.
const rule = (name: string, fn: Rule) => {
  md.renderer.rules[name] = (tokens, idx, opts, env, self) =>
    fn(tokens, idx, opts, env as unknown as MarkdownHtmlOptions, self);
};
const escape = md.utils.escapeHtml;
const removed = (reason: string) => `<span class="link-removed" title="${escape(`link removed: ${reason}`)}">`;

rule('link_open', (tokens, idx, opts, env, self) => {
  const token = tokens[idx]!;
  const resolved = resolveHref(String(token.attrGet('href') ?? ''), env);
  if (resolved.href === null) {
    token.meta = { removed: true };
    return removed(resolved.reason);
  }
  token.attrSet('href', resolved.href);
  if (/^[a-z]+:/i.test(resolved.href)) token.attrSet('rel', 'noopener noreferrer');
  return self.renderToken(tokens, idx, opts);
});

rule('link_close', (tokens, idx) => {
  // Links do not nest: the nearest link_open before this close is its own.
  for (let i = idx - 1; i >= 0; i--) {
    if (tokens[i]!.type === 'link_open') return tokens[i]!.meta?.removed ? '</span>' : '</a>';
  }
  return '</a>';
});

// The page's policy loads no image from outside it: an image in agent text is a link to the file.
rule('image', (tokens, idx, opts, env, self) => {
  const token = tokens[idx]!;
  const alt = escape(self.renderInlineAsText(token.children ?? [], opts, env)) || 'image';
  const resolved = resolveHref(String(token.attrGet('src') ?? ''), env);
  if (resolved.href === null) return `${removed(resolved.reason)}${alt}</span>`;
  return `<a class="image-link" href="${escape(resolved.href)}"${/^[a-z]+:/i.test(resolved.href) ? ' rel="noopener noreferrer"' : ''}>${alt}</a>`;
});

const headingTag = (token: Token, env: MarkdownHtmlOptions) =>
  `h${Math.min(6, Math.max(env.minHeading ?? 4, Number(token.tag.slice(1)) + 1))}`;
rule('heading_open', (tokens, idx, _opts, env) => `<${headingTag(tokens[idx]!, env)}>`);
rule('heading_close', (tokens, idx, _opts, env) => `</${headingTag(tokens[idx]!, env)}>\n`);
rule('table_open', () => '<div class="scroll"><table class="md-table">\n');
rule('table_close', () => '</table></div>\n');

/** The text as HTML blocks; empty text gives ''. */
export function renderMarkdownHtml(text: string, options: MarkdownHtmlOptions): string {
  return md.render(text, options);
}

/** One line of text (a goal) as inline HTML: emphasis, code and links, no blocks. */
export function renderMarkdownInlineHtml(text: string, options: MarkdownHtmlOptions): string {
  return md.renderInline(text, options);
}
