import { renderMarkdownHtml } from '../protocol/markdown-html.js';
import { escapeHtml } from '../protocol/render/html-escape.js';
import { parseHeaderLines, parseSections } from '../protocol/markdown.js';

/**
 * The one place the dashboard renders Markdown: agent text is untrusted, so only the project's
 * safe renderer (every character escaped, a fixed set of tags out) touches it. Swap the renderer here.
 */
// The dashboard serves no loop files, so relative links stay unresolved paths (harmless), never raw HTML or scripts.
export const renderMarkdown = (md: string): string =>
  renderMarkdownHtml(md, { sourceDir: 'loop_station', hrefBase: '' });

/** The `key: value` header lines of an artifact (agent, verdict, recommendation…), keys lower-cased. */
export const artifactHeader = (md: string): Record<string, string> => parseHeaderLines(md);

/** An artifact as agents write it: `key: value` header lines as a list, then each `## ` section. */
export function renderArtifact(md: string): string {
  const header = Object.entries(artifactHeader(md));
  const sections = parseSections(md);
  const head = header.length
    ? `<dl class="kv">${header.map(([k, v]) => `<div><dt>${escapeHtml(k.replace(/_/g, ' '))}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`
    : '';
  const body = sections.length
    ? sections.map((s) => `<h3>${escapeHtml(s.title)}</h3>${renderMarkdown(s.body)}`).join('\n')
    : header.length
      ? ''
      : renderMarkdown(md);
  return `${head}${body}`;
}
