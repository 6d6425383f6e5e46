import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { globToRegExp } from '../protocol/glob.js';

/** The folder a glob can only match under: its literal leading segments. */
function staticPrefix(glob: string): string {
  const parts = glob.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (/[*?[]/.test(part)) break;
    fixed.push(part);
  }
  if (fixed.length === parts.length - 1 && !/[*?[]/.test(parts.at(-1)!)) return glob;
  return fixed.join('/');
}

const SKIPPED_DIRS = new Set(['loop_station', '.git', 'node_modules']);

export interface MatchedFile {
  path: string;
  kind: 'file' | 'symlink';
}

/** Files under `root` matching any of `globs`, as sorted POSIX relative paths; loop_station/ is never matched. */
export async function matchFiles(root: string, globs: readonly string[]): Promise<MatchedFile[]> {
  const regexps = globs.map(globToRegExp);
  const found = new Map<string, MatchedFile>();
  const visit = async (rel: string): Promise<void> => {
    const abs = rel === '' ? root : join(root, rel);
    let info;
    try {
      info = await lstat(abs);
    } catch {
      return;
    }
    if (info.isSymbolicLink()) {
      if (regexps.some((r) => r.test(rel))) found.set(rel, { path: rel, kind: 'symlink' });
      return;
    }
    if (info.isFile()) {
      if (regexps.some((r) => r.test(rel))) found.set(rel, { path: rel, kind: 'file' });
      return;
    }
    if (!info.isDirectory()) return;
    if (SKIPPED_DIRS.has(rel.split('/')[0]!) && rel !== '') return;
    for (const entry of (await readdir(abs)).sort()) {
      if (rel === '' && SKIPPED_DIRS.has(entry)) continue;
      await visit(rel === '' ? entry : `${rel}/${entry}`);
    }
  };
  const starts = [...new Set(globs.map(staticPrefix))];
  for (const start of starts.includes('') ? [''] : starts) await visit(start);
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
