import { compileFolderGlobs, compileGlobs, type PatternSyntax } from './glob.js';

/**
 * Finding the files a pattern list names, and the frame-lock checks on them (docs/patterns.md).
 * The folder listing comes from the caller (the worker's activities, the CLI), so both walk alike.
 */

export interface DirEntry {
  name: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
}

/** The entries of a folder relative to the root ('' = the root); [] when it does not exist. */
export type ListDir = (dir: string) => Promise<DirEntry[]>;

/** What Node's `readdir(…, { withFileTypes: true })` gives, read without following links. */
export interface DirentLike {
  name: string;
  isSymbolicLink(): boolean;
  isFile(): boolean;
  isDirectory(): boolean;
}

export const toDirEntry = (e: DirentLike): DirEntry => ({
  name: e.name,
  kind: e.isSymbolicLink() ? 'symlink' : e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other',
});

export interface MatchedFile {
  path: string;
  /** A symlink is listed, never followed: it may lead out of the root. */
  kind: 'file' | 'symlink';
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Files under the root the list names, as sorted POSIX relative paths; skipped folders are never entered. */
export async function walkGlobs(
  list: ListDir,
  globs: readonly string[],
  syntax: PatternSyntax = 'picomatch',
): Promise<MatchedFile[]> {
  const matcher = compileGlobs(globs, syntax);
  const found: MatchedFile[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await list(dir)) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.kind === 'dir') {
        if (matcher.mayContain(path)) await visit(path);
      } else if (entry.kind !== 'other' && matcher.includes(path)) found.push({ path, kind: entry.kind });
    }
  };
  if (globs.length) await visit('');
  return found.sort(byPath);
}

export interface FrameGlobCheck {
  /** Each refuses the frame: a protected pattern that protects nothing, a file both lists claim, a protected file in scratch. */
  errors: string[];
  /** What to do about the errors ('' when there are none). */
  fix: string;
  /** A workspace pattern that matches nothing yet (the executor may create its files). */
  warnings: string[];
}

const positives = (globs: readonly string[]) => globs.filter((g) => !g.startsWith('!'));

/** The files the list's positive patterns match on their own, and those the whole list keeps. */
async function walkList(list: ListDir, globs: readonly string[]): Promise<{ candidates: string[]; kept: Set<string> }> {
  const candidates = (await walkGlobs(list, positives(globs))).map((f) => f.path);
  const matcher = compileGlobs(globs);
  return { candidates, kept: new Set(candidates.filter((p) => matcher.includes(p))) };
}

/** `field.i: "pattern" …` for each positive pattern that names no file the list keeps. */
function unmatched(
  field: string,
  globs: readonly string[],
  walked: { candidates: string[]; kept: Set<string> },
  root: string,
): string[] {
  const matcher = compileGlobs(globs);
  const hits = walked.candidates.map((path) => ({ path, by: matcher.matching(path) }));
  return globs.flatMap((glob, index) => {
    if (glob.startsWith('!')) return [];
    const own = hits.filter((h) => h.by.includes(index));
    const where = `${field}.${index}: ${JSON.stringify(glob)}`;
    if (own.length === 0) return [`${where} matches no file under ${root}`];
    if (own.some((h) => walked.kept.has(h.path))) return [];
    const takers = [...new Set(own.flatMap((h) => h.by.filter((i) => i > index && globs[i]!.startsWith('!'))))].map(
      (i) => JSON.stringify(globs[i]),
    );
    return [
      `${where} keeps no file under ${root}: ${takers.join(', ')} take${takers.length > 1 ? '' : 's'} out every file it matches`,
    ];
  });
}

/**
 * What the frame lock checks before it writes anything: every protected pattern protects a file
 * (a typo must not leave the evaluator open), no file is both the executor's and protected, no
 * protected file lies in a scratch folder (its changes would read as expected there), and which
 * workspace patterns match nothing yet. A scratch pattern may match nothing: runs create those folders.
 */
export async function checkFrameGlobs(
  list: ListDir,
  root: string,
  spec: { workspace: readonly string[]; protected: readonly string[]; scratch?: readonly string[] | undefined },
): Promise<FrameGlobCheck> {
  const prot = await walkList(list, spec.protected);
  const work = await walkList(list, spec.workspace);
  const errors = unmatched('protected', spec.protected, prot, root);
  const fixes = errors.length
    ? ['make each protected pattern name files that exist, or remove it (docs/patterns.md)']
    : [];
  const both = [...work.kept].filter((f) => prot.kept.has(f));
  if (both.length) {
    const shown = both.slice(0, 3).join(', ') + (both.length > 3 ? ` and ${both.length - 3} more` : '');
    errors.push(
      `workspace: matches ${shown} under ${root}, which protected matches too: a file is either the executor's to change or nobody's`,
    );
    fixes.push(
      `take them out of workspace with a ! pattern after the others (such as ${JSON.stringify(`!${both[0]}`)})`,
    );
  }
  const scratch = compileFolderGlobs(spec.scratch ?? []);
  const hidden = [...prot.kept].filter((f) => scratch.includes(f));
  if (hidden.length) {
    const shown = hidden.slice(0, 3).join(', ') + (hidden.length > 3 ? ` and ${hidden.length - 3} more` : '');
    errors.push(
      `scratch: holds ${shown} under ${root}, which protected matches: changes in a scratch folder are expected, ` +
        "a protected file's never are",
    );
    fixes.push(
      `take them out of scratch with a ! pattern after the others (such as ${JSON.stringify(`!${hidden[0]}`)}), ` +
        'or keep protected files out of scratch folders',
    );
  }
  const warnings = unmatched('workspace', spec.workspace, work, root).map(
    (w) => `${w} yet: fine if the executor creates these files, else correct the pattern`,
  );
  return { errors, fix: fixes.length ? `${fixes.join('; ')}; then submit again` : '', warnings };
}
