import type { Token } from 'markdown-it';
import { createMarkdownIt } from '../../protocol/markdown-parser.js';

// A viewer in the engine's dialect that follows every link, as some editors and Git hosts do.
const viewer = createMarkdownIt();
viewer.validateLink = () => true;

// The same viewer inside a summary file whose other digests may define any label.
const anyLabel = () => ({ references: new Proxy({}, { get: () => ({ href: 'https://elsewhere.example/p.png' }) }) });

/**
 * What a viewer of `text` would fetch (images) and follow (links); `amongOthers`: read it alone and
 * again as if other digests of the same file defined every label.
 */
export function viewerReads(
  text: string,
  options: { amongOthers?: boolean } = {},
): { images: string[]; links: string[] } {
  const images: string[] = [];
  const links: string[] = [];
  const walk = (t: Token) => {
    if (t.type === 'image') images.push(String(t.attrGet('src')));
    if (t.type === 'link_open') links.push(String(t.attrGet('href')));
    (t.children ?? []).forEach(walk);
  };
  for (const env of options.amongOthers ? [{}, anyLabel()] : [{}]) viewer.parse(text, env).forEach(walk);
  return { images, links };
}
