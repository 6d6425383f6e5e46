import type { Token } from 'markdown-it';
import { classifyLink, createMarkdownIt } from './markdown-parser.js';

/**
 * Edits of Markdown source that leave code as written: raw HTML made inert for Markdown files the
 * engine writes, relative links re-based when text moves to a file in another folder. markdown-it
 * finds the code blocks; code spans and backslash escapes are found here (inline tokens carry no
 * source positions). Policy: docs/markdown.md.
 */

const md = createMarkdownIt();

export interface Blocks {
  /** Per line: the fence or indented code block it belongs to (opening line included), else undefined. */
  code: (Token | undefined)[];
  /** Per line: whether it continues the paragraph of the line before (outside quotes). */
  continues: boolean[];
}

export function blocksOf(lines: readonly string[]): Blocks {
  const code: (Token | undefined)[] = new Array(lines.length).fill(undefined);
  const continues: boolean[] = new Array(lines.length).fill(false);
  let quoteDepth = 0;
  for (const token of md.parse(lines.join('\n'), {})) {
    if (token.type === 'blockquote_open') quoteDepth++;
    if (token.type === 'blockquote_close') quoteDepth--;
    if (!token.map) continue;
    const [from, to] = token.map;
    if (token.type === 'fence' || token.type === 'code_block') for (let i = from; i < to; i++) code[i] = token;
    // A paragraph in a quote repeats `>` on each line: its lines are left as written.
    if (token.type === 'paragraph_open' && quoteDepth === 0) for (let i = from + 1; i < to; i++) continues[i] = true;
  }
  return { code, continues };
}

/** Splits text into code spans and backslash escapes (kept) and the plain text between them (edited). */
function editPlain(text: string, edit: (plain: string) => string): string {
  let out = '';
  let plain = '';
  const keep = (verbatim: string) => {
    out += edit(plain) + verbatim;
    plain = '';
  };
  for (let i = 0; i < text.length;) {
    if (text[i] === '\\' && i + 1 < text.length) {
      keep(text.slice(i, i + 2));
      i += 2;
    } else if (text[i] === '`') {
      // A code span closes at the next run of exactly as many backticks; without one they are text.
      const run = /^`+/.exec(text.slice(i))![0];
      const close = new RegExp(`(?<!\`)${run}(?!\`)`, 'g');
      close.lastIndex = i + run.length;
      const end = close.exec(text);
      const next = end ? end.index + run.length : i + run.length;
      keep(text.slice(i, next));
      i = next;
    } else {
      plain += text[i];
      i++;
    }
  }
  return out + edit(plain);
}

/** Applies `edit` to the text outside code blocks, code spans and escapes. */
function editOutsideCode(text: string, edit: (plain: string) => string): string {
  const lines = text.split('\n');
  const { code } = blocksOf(lines);
  const out: string[] = [];
  // Code spans never cross a blank line or a code block: each run of other lines is scanned as one.
  let run: string[] = [];
  const flush = () => {
    if (run.length) out.push(...editPlain(run.join('\n'), edit).split('\n'));
    run = [];
  };
  lines.forEach((line, i) => {
    if (code[i] || line.trim() === '') {
      flush();
      out.push(line);
    } else run.push(line);
  });
  flush();
  return out.join('\n');
}

/**
 * Raw HTML made inert: outside code, a `<` that would open a tag, comment or declaration becomes
 * `&lt;` (a viewer shows the same character); `<https://…>` and `<mailto:…>` autolinks and
 * `[a](<dest>)` destinations stay.
 */
export function inertHtml(text: string): string {
  return editOutsideCode(text, (plain) => plain.replace(TAG_START_RE, '&lt;'));
}

// A `<` before a letter, `/`, `!` or `?`, unless it opens an autolink or a `<…>` link destination.
const TAG_START_RE =
  /(?<!\]\([ \t]*|^ {0,3}\[[^\]\n]+\]:[ \t]*)<(?!(?:https?:\/\/|mailto:)[^\s<>]*>)(?=[A-Za-z/!?])/gim;

/** Segments of `dir/path`, `.` and `..` applied; undefined when it climbs above the loop root. */
export function rootPath(dir: string, path: string): string[] | undefined {
  const out: string[] = [];
  for (const seg of [...dir.split('/'), ...path.split('/')]) {
    if (seg === '' || seg === '.') continue;
    if (seg !== '..') out.push(seg);
    else if (out.pop() === undefined) return undefined;
  }
  return out;
}

/** The path from folder `fromDir` to `path`, both relative to the loop root. */
export function relativePath(fromDir: string, path: string): string {
  const from = fromDir.split('/').filter(Boolean);
  const to = path.split('/').filter(Boolean);
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  return [...from.slice(common).map(() => '..'), ...to.slice(common)].join('/') || '.';
}

// `](dest` of an inline link or image (dest in <…> or up to a space or an unbalanced `)`), and
// `[label]: dest` of a link reference definition.
const INLINE_DEST_RE = /\]\((\s*)(<[^<>\n]*>|(?:[^\s()<>\\]|\([^\s()]*\))+)/g;
const DEFINITION_RE = /^( {0,3}\[[^\]\n]+\]:[ \t]*)(<[^<>\n]*>|\S+)/gm;

/**
 * Relative link and image destinations written in a file in `fromDir` rewritten by `toHref` (which
 * gets the target's path from the loop root), so they still lead there from another file. Absolute
 * URLs, fragments and paths that climb above the root are left as written.
 */
export function rebaseLinks(text: string, fromDir: string, toHref: (rootRelative: string) => string): string {
  const rebase = (dest: string): string => {
    const bracketed = dest.startsWith('<');
    const target = classifyLink(bracketed ? dest.slice(1, -1) : dest);
    if (target.kind !== 'relative') return dest;
    const segments = rootPath(fromDir, target.path);
    if (segments === undefined) return dest;
    const href = `${toHref(segments.join('/'))}${target.suffix}`;
    return bracketed ? `<${href}>` : href;
  };
  return editOutsideCode(text, (plain) =>
    plain
      .replace(INLINE_DEST_RE, (_m, space: string, dest: string) => `](${space}${rebase(dest)}`)
      .replace(DEFINITION_RE, (_m, head: string, dest: string) => `${head}${rebase(dest)}`),
  );
}
