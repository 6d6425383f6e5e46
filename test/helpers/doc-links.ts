import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * Reading the repository's own documentation references: which files there are, which anchors a
 * Markdown file defines, which links and `docs/…` citations a file makes. The anchor rule is the
 * one docs/README.md states ("Anchors").
 */

export const REPO = join(import.meta.dirname, '../..');

/** Never scanned: dependencies, git, and what .gitignore keeps out of the repository. */
const SKIPPED_DIRS = new Set(['node_modules', '.git']);
/** Recorded histories are Temporal's JSON, not text a reader follows. */
const SKIPPED_PATHS = new Set(['test/histories']);

/** The simple forms .gitignore uses here: `dir/` (from the root), `*.ext`, `name-*`. */
function ignoredByGit(): { dirs: Set<string>; suffixes: string[]; prefixes: string[] } {
  const ignored = { dirs: new Set<string>(), suffixes: [] as string[], prefixes: [] as string[] };
  for (const raw of readFileSync(join(REPO, '.gitignore'), 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    if (line.endsWith('/')) ignored.dirs.add(line.slice(0, -1));
    else if (line.startsWith('*')) ignored.suffixes.push(line.slice(1));
    else if (line.endsWith('*')) ignored.prefixes.push(line.slice(0, -1));
    else ignored.dirs.add(line);
  }
  return ignored;
}

/** Repository-relative POSIX paths of every text file a reader of the repository can open. */
export function repoTextFiles(): string[] {
  const ignored = ignoredByGit();
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(REPO, dir)).sort()) {
      const rel = dir ? `${dir}/${name}` : name;
      if (
        SKIPPED_DIRS.has(name) ||
        SKIPPED_PATHS.has(rel) ||
        ignored.dirs.has(rel) ||
        ignored.prefixes.some((p) => name.startsWith(p))
      )
        continue;
      const info = statSync(join(REPO, rel));
      if (info.isDirectory()) walk(rel);
      else if (
        info.isFile() &&
        !ignored.suffixes.some((s) => name.endsWith(s)) &&
        info.size < 4 * 1024 * 1024 &&
        isText(rel)
      )
        out.push(rel);
    }
  };
  walk('');
  return out;
}

function isText(rel: string): boolean {
  const bytes = readFileSync(join(REPO, rel));
  return !bytes.subarray(0, 8000).includes(0);
}

export const readRepoFile = (rel: string): string => readFileSync(join(REPO, rel), 'utf8');

/** Lines outside fenced code blocks, with their 1-based numbers; inline code spans blanked. */
export function proseLines(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | null = null;
  markdown.split('\n').forEach((text, i) => {
    const marker = /^\s*(```+|~~~+)/.exec(text)?.[1];
    if (marker && (fence === null || marker.startsWith(fence))) {
      fence = fence === null ? marker : null;
      return;
    }
    if (fence === null)
      out.push({ line: i + 1, text: text.replace(/(`+)(?:(?!\1).)+\1/g, (m) => ' '.repeat(m.length)) });
  });
  return out;
}

/** GitHub's heading slug: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/<[^>]*>/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown file defines: explicit `<a id>` / `<a name>`, and its headings' slugs. */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  const counts = new Map<string, number>();
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (marker && (fence === null || marker.startsWith(fence))) {
      fence = fence === null ? marker : null;
      continue;
    }
    const heading = fence === null ? /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line) : null;
    if (!heading) continue;
    const slug = githubSlug(heading[1]!);
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return anchors;
}

export interface MarkdownLink {
  line: number;
  target: string;
}

/** Inline links and images `[text](target)` and reference definitions `[id]: target`, outside code. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { line, text } of proseLines(markdown)) {
    for (const m of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      links.push({ line, target: m[1]! });
    const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text);
    if (ref) links.push({ line, target: ref[1]! });
  }
  return links;
}

/** A link to another site or scheme, which this check leaves alone. */
export const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

export interface DocCitation {
  line: number;
  /** `docs/protocol.md`. */
  path: string;
  /** `#canonical-order`, and further `, #anchor` of the same file. */
  anchors: string[];
  text: string;
}

/**
 * `docs/<file>.md`, optionally `#anchor`, and `, #other` anchors of the same file after it
 * (`docs/protocol.md#layout, #decisions`), wherever the text cites them.
 */
export function docCitations(text: string): DocCitation[] {
  const out: DocCitation[] = [];
  text.split('\n').forEach((lineText, i) => {
    for (const m of lineText.matchAll(/(?<![\w./-])(docs\/[\w./-]*?\.md)((?:#[\w-]+)(?:,\s*#[\w-]+)*)?/g)) {
      const anchors = m[2] ? [...m[2].matchAll(/#([\w-]+)/g)].map((a) => a[1]!) : [];
      out.push({ line: i + 1, path: m[1]!, anchors, text: m[0] });
    }
  });
  return out;
}

/** POSIX form of a path relative to the repository. */
export const repoPath = (abs: string): string => relative(REPO, abs).split(sep).join('/');
