import type { Token } from 'markdown-it';
import { classifyLink, createMarkdownIt } from './markdown-parser.js';

/**
 * Edits of Markdown source that leave code as written: raw HTML made inert for Markdown files the
 * engine writes, remote images and blocked links defused, relative links re-based when text moves
 * to a file in another folder. markdown-it finds the code blocks; code spans, backslash escapes and
 * link brackets are found here (inline tokens carry no source positions). Policy: docs/markdown.md.
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

/** Where the code span opened by the backtick run at `i` ends; just past the run when none closes it (text, then). */
function codeSpanEnd(text: string, i: number): number {
  // A code span closes at the next run of exactly as many backticks.
  const run = /^`+/.exec(text.slice(i))![0];
  const close = new RegExp(`(?<!\`)${run}(?!\`)`, 'g');
  close.lastIndex = i + run.length;
  const end = close.exec(text);
  return end ? end.index + run.length : i + run.length;
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
      const next = codeSpanEnd(text, i);
      keep(text.slice(i, next));
      i = next;
    } else {
      plain += text[i];
      i++;
    }
  }
  return out + edit(plain);
}

/** Applies `edit` to each run of lines outside code blocks; no inline construct crosses the blank line ending a run. */
function editRuns(text: string, edit: (run: string) => string): string {
  const lines = text.split('\n');
  const { code } = blocksOf(lines);
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length) out.push(...edit(run.join('\n')).split('\n'));
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

/** Applies `edit` to the text outside code blocks, code spans and escapes. */
function editOutsideCode(text: string, edit: (plain: string) => string): string {
  return editRuns(text, (run) => editPlain(run, edit));
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

// A reader that follows every link and keeps definitions as tokens: what a viewer of a summary reads.
const viewer = createMarkdownIt();
viewer.validateLink = () => true;
viewer.disable('strip_references');

type References = Record<string, { href: string; title: string }>;

/** The viewer's tokens for `text`, and the first definition of each label (the one every viewer uses). */
function read(text: string): { tokens: Token[]; references: References } {
  const env: { references?: References } = {};
  const tokens = viewer.parse(text, env);
  return { tokens, references: env.references ?? {} };
}

/** Offset of the `:` after the label of the definition that starts on line `line`; -1 if there is none. */
function definitionColon(text: string, line: number): number {
  let i = 0;
  for (let n = 0; n < line; n++) i = text.indexOf('\n', i) + 1;
  // Only container markers (`>`, `-`, `1.`, spaces) come before a definition's `[` on its line.
  i = text.indexOf('[', i) + 1;
  while (i > 0 && i < text.length && text[i] !== ']') i += text[i] === '\\' ? 2 : 1;
  return text[i] === ']' && text[i + 1] === ':' ? i + 1 : -1;
}

/**
 * Definitions with a blocked destination made text (`[r]\: javascript:…`): a definition serves the
 * whole summary file, so none may be left for a link elsewhere in it to use. Repeated until none is
 * left, as a later definition of the same label, or one that followed as a code block, then counts.
 */
function unbindBlocked(text: string): { text: string; tokens: Token[]; references: References } {
  for (;;) {
    const { tokens, references } = read(text);
    const blocked = new Set(
      Object.keys(references).filter((label) => classifyLink(references[label]!.href).kind === 'blocked'),
    );
    const colons = tokens
      .filter((t) => t.type === 'reference_definition' && blocked.has((t.meta as { label: string }).label))
      .map((t) => definitionColon(text, t.map![0]));
    if (!colons.length || colons.includes(-1)) return { text, tokens, references };
    for (const at of colons.reverse()) text = `${text.slice(0, at)}\\${text.slice(at)}`;
  }
}

/**
 * Applies `edit` to the source of each paragraph and heading and of each table cell, as the viewer
 * found them in `text`: inline Markdown (a code span, a link) never crosses from one to the next.
 */
function editInline(text: string, tokens: Token[], edit: (source: string) => string): string {
  const lines = text.split('\n');
  const table = new Set<number>();
  const blocks = new Map<number, number>();
  for (const t of tokens) {
    if (t.type === 'table_open') for (let i = t.map![0]; i < t.map![1]; i++) table.add(i);
    else if (t.type === 'inline' && t.map && !table.has(t.map[0])) blocks.set(t.map[0], t.map[1]);
  }
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const end = blocks.get(i);
    // GitHub splits a row at every `|` not escaped, before it reads the cells.
    const cells = table.has(i) ? lines[i]!.split(/(?<!\\)\|/) : undefined;
    if (cells) out.push(cells.map(edit).join('|'));
    else if (end === undefined) out.push(lines[i]!);
    else {
      out.push(edit(lines.slice(i, end).join('\n')));
      i = end - 1;
    }
  }
  return out.join('\n');
}

// `<scheme:…>` and `<name@host>` autolinks as CommonMark reads them (markdown-it's patterns).
const AUTOLINK_RE = /<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\u0000-\u0020]*)>/y;
const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const EMAIL_AUTOLINK_RE = new RegExp(`<[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]+@${HOST_LABEL}(?:\\.${HOST_LABEL})*>`, 'y');

/** The autolink that starts at `i` (its URL, undefined for an e-mail address) and where it ends. */
function autolinkAt(text: string, i: number): { url?: string; end: number } | undefined {
  for (const re of [AUTOLINK_RE, EMAIL_AUTOLINK_RE]) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m) return { url: m[1], end: i + m[0].length };
  }
  return undefined;
}

/**
 * A destination as written judged as the HTML report judges it, both as the text says it (escapes
 * and entities decoded) and as a viewer sends it (percent-encoded): blocked (with why) if either is,
 * relative only if both are.
 */
function judge(dest: string): { blocked?: string; relative: boolean } {
  const decoded = viewer.utils.unescapeAll(dest);
  const targets = [classifyLink(decoded), classifyLink(viewer.normalizeLink(decoded))];
  const blocked = targets.find((t) => t.kind === 'blocked');
  return {
    blocked: blocked?.kind === 'blocked' ? blocked.reason : undefined,
    relative: targets.every((t) => t.kind === 'relative'),
  };
}

const removed = (reason: string) => ` (link removed: ${reason})`;

// Nesting deeper than this is left to the check in defuseLinks (and keeps the recursion bounded).
const MAX_NESTING = 32;

/** The source of one paragraph, heading or table cell, with its links and images judged. */
class LinkScanner {
  /** For each `[`, the offset of the `]` that closes it; -1 when none does. */
  private readonly closer: number[] = [];
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly references: References,
  ) {
    this.pair(0);
  }

  /** `src[from, to)` with every link and image in it rewritten as defuseLinks says. */
  text(from: number, to: number): string {
    let out = '';
    let bang = false;
    for (let i = from; i < to;) {
      const found = this.construct(i, to);
      if (found) {
        // A `!` left just before a rewritten `[…]` would make it an image again (`!![a](…)`).
        if (bang && found.text.startsWith('[')) out = `${out.slice(0, -1)}\\!`;
        out += found.text;
        bang = false;
        // A destination may hold a backtick or `<` that the pairing took for the start of a code span.
        if (/[`<]/.test(this.src.slice(i, found.end))) this.pair(found.end);
        i = found.end;
        continue;
      }
      const end = Math.min(this.unit(i), to);
      out += this.blockedAutolink(i) ? '&lt;' : this.src.slice(i, end);
      bang = this.src[i] === '!' && end === i + 1;
      i = end;
    }
    return out;
  }

  /** Pairs brackets from `from` on, passing over what a viewer reads first: escapes, code spans, autolinks. */
  private pair(from: number): void {
    const open: number[] = [];
    for (let i = from; i < this.src.length; i = this.unit(i)) {
      if (this.src[i] === '[') {
        open.push(i);
        this.closer[i] = -1;
      } else if (this.src[i] === ']' && open.length) this.closer[open.pop()!] = i;
    }
  }

  /** Where the unit at `i` ends: a backslash escape, a code span or an allowed autolink whole, else one character. */
  private unit(i: number): number {
    if (this.src[i] === '\\') return Math.min(i + 2, this.src.length);
    if (this.src[i] === '`') return codeSpanEnd(this.src, i);
    if (this.src[i] === '<' && !this.blockedAutolink(i)) return autolinkAt(this.src, i)?.end ?? i + 1;
    return i + 1;
  }

  /** Whether an autolink with a blocked scheme starts at `i`; its `<` becomes `&lt;`, and what it held is text. */
  private blockedAutolink(i: number): boolean {
    const url = this.src[i] === '<' ? autolinkAt(this.src, i)?.url : undefined;
    return url !== undefined && judge(url).blocked !== undefined;
  }

  /** The link or image that starts at `i` and ends by `to`, rewritten; undefined when there is none. */
  private construct(i: number, to: number): { text: string; end: number } | undefined {
    const image = this.src.startsWith('![', i);
    const open = image ? i + 1 : i;
    const close = this.src[open] === '[' ? (this.closer[open] ?? -1) : -1;
    if (close < 0 || close >= to || this.depth >= MAX_NESTING) return undefined;
    const label = () => {
      this.depth++;
      const text = this.text(open + 1, close);
      this.depth--;
      return text;
    };
    const inline = this.src[close + 1] === '(' ? this.inlineTail(close + 1, to) : undefined;
    if (inline) {
      const { blocked, relative } = judge(inline.dest);
      const tail = this.src.slice(close, inline.end);
      if (image && relative) return { text: `![${label()}${tail}`, end: inline.end };
      return { text: blocked === undefined ? `[${label()}${tail}` : `${label()}${removed(blocked)}`, end: inline.end };
    }
    // A reference. CommonMark, unlike markdown-it, also reads `![a](…` with a broken `(…)` as `![a]`.
    const ref = this.reference(open, close, to);
    const target = this.references[viewer.utils.normalizeReference(ref.label)];
    // Escaping the `!` leaves the brackets, so what encloses this pairs as it did.
    if (!target) return image ? { text: '\\!', end: i + 1 } : undefined;
    if (!image || classifyLink(target.href).kind !== 'relative')
      return { text: `[${label()}${this.src.slice(close, ref.end)}`, end: ref.end };
    const title = target.title && ` "${target.title.replace(/\s+/g, ' ').replace(/[!-/:-@[-`{-~]/g, '\\$&')}"`;
    return { text: `![${label()}](<${target.href}>${title})`, end: ref.end };
  }

  /** The label a reference after the `]` at `close` names (`[a][b]`, `[a][]`, `[a]`) and where it ends. */
  private reference(open: number, close: number, to: number): { label: string; end: number } {
    const second = this.src[close + 1] === '[' ? (this.closer[close + 1] ?? -1) : -1;
    const own = this.src.slice(open + 1, close);
    if (second < 0 || second >= to) return { label: own, end: close + 1 };
    return { label: this.src.slice(close + 2, second) || own, end: second + 1 };
  }

  /** The `(dest "title")` that starts at `at`, as markdown-it parses it: its destination and where it ends. */
  private inlineTail(at: number, to: number): { dest: string; end: number } | undefined {
    const space = (j: number) => {
      while (j < to && /[ \t\n]/.test(this.src[j]!)) j++;
      return j;
    };
    let j = space(at + 1);
    const destEnd = this.destinationEnd(j, to);
    const dest = destEnd < 0 ? '' : this.src.slice(j, destEnd).replace(/^<([^]*)>$/, '$1');
    if (destEnd >= 0) {
      const titleAt = space(destEnd);
      const titleEnd = titleAt > destEnd ? this.titleEnd(titleAt, to) : -1;
      j = titleEnd < 0 ? space(destEnd) : space(titleEnd);
    }
    return j < to && this.src[j] === ')' ? { dest, end: j + 1 } : undefined;
  }

  /** End of the link destination at `j` (`<…>`, or up to a space or an unbalanced `)`); -1 when there is none. */
  private destinationEnd(j: number, to: number): number {
    if (this.src[j] === '<') {
      for (let k = j + 1; k < to; k += this.src[k] === '\\' ? 2 : 1) {
        if (this.src[k] === '\n' || this.src[k] === '<') return -1;
        if (this.src[k] === '>') return k + 1;
      }
      return -1;
    }
    let level = 0;
    let k = j;
    for (; k < to; k++) {
      const c = this.src.charCodeAt(k);
      if (c <= 0x20 || c === 0x7f) break;
      if (c === 0x5c && k + 1 < to && this.src[k + 1] !== ' ') k++;
      else if (c === 0x28 && ++level > 32) return -1;
      else if (c === 0x29 && level-- === 0) break;
    }
    return k === j || level > 0 ? -1 : k;
  }

  /** End of the link title at `j` (`"…"`, `'…'` or `(…)`); -1 when there is none. */
  private titleEnd(j: number, to: number): number {
    const marker = { '"': '"', "'": "'", '(': ')' }[this.src[j]!];
    for (let k = j + 1; marker && k < to; k++) {
      if (this.src[k] === marker) return k + 1;
      if (marker === ')' && this.src[k] === '(') return -1;
      if (this.src[k] === '\\') k++;
    }
    return -1;
  }
}

// References as seen from a summary file holding other digests: any label may be defined there.
const ANY_LABEL = new Proxy({}, { get: () => ({ href: '', title: '' }) });

/** Whether a viewer of `text`, alone or among other digests, would fetch a remote image or follow a blocked link. */
function live(text: string): boolean {
  const { tokens, references } = read(text);
  const bad = (t: Token): boolean =>
    (t.type === 'image' &&
      (t.meta?.label !== undefined || classifyLink(String(t.attrGet('src') ?? '')).kind !== 'relative')) ||
    (t.type === 'link_open' && classifyLink(String(t.attrGet('href') ?? '')).kind === 'blocked') ||
    (t.children ?? []).some(bad);
  const elsewhere = viewer.parse(text, { references: ANY_LABEL });
  return (
    Object.values(references).some((r) => classifyLink(r.href).kind === 'blocked') ||
    tokens.some(bad) ||
    elsewhere.some(bad)
  );
}

/**
 * Agent Markdown a viewer can open without fetching or running anything; the rest left as written.
 * Outside code: an image whose destination is not a relative path becomes a link (`![a](https://…)`
 * → `[a](https://…)`); a link whose destination classifyLink blocks becomes its text and a note
 * (`[a](javascript:…)` → `a (link removed: javascript: links are not followed)`), an autolink `&lt;…>`,
 * a definition text (`[r]\: …`). Reference-style images are written inline from their definition
 * (`![a][r]` → `![a](<plot.png>)`), or `\![a][r]` when it is not in the text: definitions serve the
 * whole summary file, so another digest's could point them elsewhere. If the parser still finds a
 * remote image or a blocked link (Markdown read here unlike markdown-it), every `[` and `<` becomes an
 * entity, code included.
 */
export function defuseLinks(text: string): string {
  const { text: unbound, tokens, references } = unbindBlocked(text);
  const edited = editInline(unbound, tokens, (source) => new LinkScanner(source, references).text(0, source.length));
  return live(edited) ? edited.replace(/\[/g, '&#91;').replace(/</g, '&lt;') : edited;
}
