import type { Token } from 'markdown-it';
import { blocksOf, defuseLinks, inertHtml, rebaseLinks, relativePath } from './markdown-source.js';

/**
 * Digests of agent Markdown that the engine copies into summaries (a review's "Risks Or Confounds",
 * its digest for the executor): lists, nesting and code blocks kept as written, raw HTML made
 * inert, remote images and blocked links defused, relative links re-based to the summaries' folder,
 * cut at a line boundary with any open code fence closed. Policy: docs/markdown.md.
 */

/** Longest digest kept, in characters (each is stored in the loop's history). */
export const DIGEST_MAX_CHARS = 1200;

const THEMATIC_BREAK_RE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;

/** Trailing spaces gone, a paragraph's wrapped lines joined (they render as spaces), at most one blank line in a row. */
function normalize(text: string): string[] {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''));
  const { code, continues } = blocksOf(lines);
  const out: string[] = [];
  lines.forEach((line, i) => {
    const prev = out.at(-1);
    if (!code[i] && continues[i] && prev !== undefined && !prev.endsWith('\\'))
      out[out.length - 1] = `${prev} ${line.trim()}`;
    else if (code[i] || line !== '' || (prev !== undefined && prev !== '')) out.push(line);
  });
  while (out.at(-1) === '') out.pop();
  return out;
}

/** The line that closes `fence` when line `i` is inside it and is not its closing line, else undefined. */
function closingFence(fence: Token | undefined, lines: readonly string[], i: number): string | undefined {
  if (fence?.type !== 'fence' || !fence.map) return undefined;
  const [from, to] = fence.map;
  const closes = (line: string) =>
    new RegExp(`^\\s*${fence.markup[0] === '`' ? '`' : '~'}{${fence.markup.length},}\\s*$`).test(line);
  if (i < from || (i === to - 1 && i > from && closes(lines[i]!))) return undefined;
  return `${/^\s*/.exec(lines[from]!)![0]}${fence.markup}`;
}

/** A text line cut to `room` characters with `…`, at a space when one is near the end. */
function cutLine(line: string, room: number): string {
  const part = line.slice(0, room - 1);
  const space = part.lastIndexOf(' ');
  return `${(space > part.length - 16 ? part.slice(0, space) : part).trimEnd()}…`;
}

/**
 * The lines that fit in `max` characters, then `…`: a text line is cut inside, a code block only
 * between lines, and a fence left open is closed so what follows stays outside it.
 */
function cut(lines: readonly string[], max: number): string {
  const { code } = blocksOf(lines);
  const kept: string[] = [];
  let room = max - 2;
  for (const [i, line] of lines.entries()) {
    const closing = closingFence(code[i], lines, i);
    if (line.length + 1 + (closing === undefined ? 0 : closing.length + 1) <= room) {
      kept.push(line);
      room -= line.length + 1;
      continue;
    }
    if (closing !== undefined && code[i]!.map![0] < i) kept.push(closing);
    else if (!code[i] && room > 24) return [...kept, cutLine(line, room + 2)].join('\n');
    break;
  }
  return [...kept, '…'].join('\n');
}

/** A section body as summaries quote it; empty for no text. Relative links written in `links.from` are re-based to `links.to` (folders from the loop root). */
export function digestMarkdown(
  text: string | undefined,
  links?: { from: string; to: string },
  max = DIGEST_MAX_CHARS,
): string {
  const lines = normalize(text ?? '');
  if (!lines.length) return '';
  // A list of one item is its text: the summary puts it in a bullet of its own.
  if (lines.length === 1 && !THEMATIC_BREAK_RE.test(lines[0]!)) lines[0] = lines[0]!.replace(/^[-*+][ \t]+(?=\S)/, '');
  const inert = defuseLinks(inertHtml(lines.join('\n')));
  const whole = links ? rebaseLinks(inert, links.from, (path) => relativePath(links.to, path)) : inert;
  return whole.length <= max ? whole : cutInert(whole.split('\n'), max);
}

/** `cut`, made inert again within `max`: a cut inside a code span frees what it held (`` `![a](https://…)`` ``). */
function cutInert(lines: readonly string[], max: number): string {
  let room = max;
  let digest = defuseLinks(inertHtml(cut(lines, room)));
  // Defusing can lengthen the cut line (`(link removed: …)`): cut shorter until the result fits.
  while (digest.length > max) {
    room -= digest.length - max;
    digest = defuseLinks(inertHtml(cut(lines, room)));
  }
  return digest;
}
