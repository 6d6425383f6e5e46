import picomatch from 'picomatch/posix.js';

/**
 * The one matcher of the spec's `workspace`, `protected` and `evidence.artifacts` patterns
 * (docs/patterns.md): picomatch's globs (braces, classes, extglobs, `**`), anchored at the loop root,
 * dotfiles only where a pattern's segment names the dot; a list is read like .gitignore, in order,
 * the last pattern that matches a path deciding, a `!` pattern taking out what came before.
 */

// posix: `[!a]` negates a class (without it picomatch also reads `[!a]` as the literal text).
// nonegate: a leading `!` is ours (list order), not picomatch's "anything but".
const OPTIONS: picomatch.PicomatchOptions = { dot: false, posix: true, nonegate: true };

/** Never matched, never walked: the loop's own files (at the root), git's store and installed packages (anywhere). */
export function isSkippedPath(path: string): boolean {
  const segments = path.split('/');
  return segments[0] === 'loop_station' || segments.some((s) => s === '.git' || s === 'node_modules');
}

interface CompiledGlob {
  negated: boolean;
  /** The folder the pattern can only match under: its literal leading segments ('' = the root). */
  base: string;
  test: (path: string) => boolean;
}

function compileOne(glob: string): CompiledGlob {
  const negated = glob.startsWith('!');
  const body = negated ? glob.slice(1) : glob;
  const scan = picomatch.scan(body, OPTIONS);
  if (!scan.isGlob) {
    // A pattern without wildcards names a file, or a folder and everything in it (as in .gitignore).
    return { negated, base: body, test: (path) => path === body || path.startsWith(`${body}/`) };
  }
  const matches = picomatch(body, OPTIONS);
  return { negated, base: scan.base, test: (path) => matches(path) };
}

export interface GlobMatcher {
  /** The path (POSIX, relative to the root) is in the set the list describes. */
  includes(path: string): boolean;
  /** Indices of the list's patterns that match the path on their own, `!` ones included. */
  matching(path: string): number[];
  /** Some path under (or at) this folder may be in the set: the walk descends into it. */
  mayContain(dir: string): boolean;
}

/**
 * How a variant's files were chosen: `picomatch` (this module), or `legacy`, the matcher of engines
 * before it (`**`, `*`, `?` only; every other character literal, dotfiles included). Variants
 * snapshotted by an older engine are compared and restored with the matcher that chose their files:
 * the same pattern can name other files today (`src` a whole folder, `{a,b}` two files), and a
 * restore deletes what its variant lacks.
 */
export type PatternSyntax = 'picomatch' | 'legacy';

/** The pre-picomatch reading of one pattern (kept only for older variants, see PatternSyntax). */
function compileLegacy(glob: string): CompiledGlob {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regexp = new RegExp(`^${re}$`);
  const base = glob
    .split('/')
    .slice(0, -1)
    .filter((_, i, all) => !all.slice(0, i + 1).some((seg) => /[*?]/.test(seg)))
    .join('/');
  return { negated: false, base, test: (path) => regexp.test(path) };
}

/** Compiles a validated pattern list (see globProblem) into the matcher every zone uses. */
export function compileGlobs(globs: readonly string[], syntax: PatternSyntax = 'picomatch'): GlobMatcher {
  const compiled = globs.map(syntax === 'legacy' ? compileLegacy : compileOne);
  const bases = compiled.filter((c) => !c.negated).map((c) => c.base);
  return {
    includes(path) {
      if (isSkippedPath(path)) return false;
      for (let i = compiled.length - 1; i >= 0; i--) if (compiled[i]!.test(path)) return !compiled[i]!.negated;
      return false;
    },
    matching: (path) => (isSkippedPath(path) ? [] : compiled.flatMap((c, i) => (c.test(path) ? [i] : []))),
    mayContain: (dir) =>
      !isSkippedPath(dir) &&
      bases.some((b) => b === '' || dir === b || dir.startsWith(`${b}/`) || b.startsWith(`${dir}/`)),
  };
}

/** The matcher of the spec's `scratch` list: a pattern names a folder and everything in it. */
export interface FolderGlobMatcher {
  /** The path, or the nearest of its folders that a pattern matches, is in the set (the last such pattern deciding). */
  includes(path: string): boolean;
  /** Every path under (and at) this folder is in the set: no later `!` pattern can take one out, so no walk need enter it. */
  coversAll(dir: string): boolean;
}

/**
 * A scratch list (docs/patterns.md#scratch): read like .gitignore, a pattern that matches a folder
 * names all it holds (a pattern matching every `wandb` folder names their files too), and the nearest of a path
 * and its folders that some pattern matches decides, so `!runs/config.yaml` after `runs` keeps that
 * one file out.
 */
export function compileFolderGlobs(globs: readonly string[]): FolderGlobMatcher {
  const compiled = globs.map(compileOne);
  const decide = (path: string): boolean | undefined => {
    for (let i = compiled.length - 1; i >= 0; i--) if (compiled[i]!.test(path)) return !compiled[i]!.negated;
    return undefined;
  };
  const includes = (path: string): boolean => {
    if (isSkippedPath(path)) return false;
    for (let at = path; at !== ''; at = at.slice(0, Math.max(at.lastIndexOf('/'), 0))) {
      const decided = decide(at);
      if (decided !== undefined) return decided;
    }
    return false;
  };
  const negatedBases = compiled.filter((c) => c.negated).map((c) => c.base);
  return {
    includes,
    coversAll: (dir) =>
      includes(dir) &&
      !negatedBases.some((b) => b === '' || dir === b || dir.startsWith(`${b}/`) || b.startsWith(`${dir}/`)),
  };
}

/**
 * A pattern as people write it, in the form the matcher reads: one trailing / names a folder
 * (`data/`, as in .gitignore: `data`), and `./` segments name the folder they are in
 * (`./eval.py` is `eval.py`, as a shell reads it; a literal pattern is compared as text, so it
 * would match nothing).
 */
export function normalizeGlob(glob: string): string {
  const bang = glob.startsWith('!') && !glob.startsWith('!!') ? '!' : '';
  const body = glob
    .slice(bang.length)
    .replace(/(?<=[^/])\/$/, '')
    .replace(/^(?:\.\/)+(?=.)/, '')
    .replace(/\/(?:\.\/)+/g, '/')
    .replace(/(?<=.)\/\.$/, '');
  return bang + body;
}

/** The first rule a pattern breaks, as its message; undefined for a good pattern. */
export function globProblem(glob: string): string | undefined {
  const got = `(got ${JSON.stringify(glob)})`;
  if (glob.startsWith('!!')) return `may start with one ! at most: remove the others ${got}`;
  const normal = normalizeGlob(glob);
  const body = normal.startsWith('!') ? normal.slice(1) : normal;
  if (body === '') return `needs a pattern after the ! ${got}`;
  if (body === '.' || body === './') return `names the loop root itself: write ** for every file under it ${got}`;
  if (body.startsWith('/')) return `must be relative to the loop root: remove the leading / ${got}`;
  if (/^[A-Za-z]:/.test(body)) return `must be relative to the loop root: remove the drive ${body.slice(0, 2)} ${got}`;
  if (body.includes('\\')) return `must use / between folders: replace each \\ with / ${got}`;
  const segments = body.split('/');
  if (segments.includes('..')) return `must stay inside the loop root: remove the .. segment ${got}`;
  if (segments.includes('')) return `must not have an empty segment: remove the doubled / ${got}`;
  // picomatch turns a pattern it cannot compile (a range such as [z-a]) into one that matches nothing.
  if (picomatch.makeRe(body, OPTIONS).source === '$^')
    return `is not a pattern picomatch can read: check its [ ] ranges ${got}`;
  return undefined;
}

// The per-pattern rules for editors (JSON Schema `pattern`; one trailing / is a folder's); loop-spec.test.ts checks both agree.
export const GLOB_PATTERN = String.raw`^(?!!!)(?!!?$)(?!!?\.(?:/\.)*/?$)(?!!?[A-Za-z]:)(?!!?/)(?!.*\\)(?!!?(?:.*/)?\.\.(?:/|$))(?!.*//).+$`;

/** Rules of a whole list: a `!` pattern only takes out what patterns before it put in. */
export function globListProblems(globs: readonly string[]): { index: number; message: string }[] {
  const first = globs.findIndex((g) => !g.startsWith('!'));
  return globs.flatMap((glob, index) =>
    glob.startsWith('!') && (first < 0 || index < first)
      ? [
          {
            index,
            message: `takes out files that patterns before it matched, and none comes before it: move it after the patterns it narrows (got ${JSON.stringify(glob)})`,
          },
        ]
      : [],
  );
}
