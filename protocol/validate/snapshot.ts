import { hasContent } from '../markdown.js';

/**
 * An in-memory description of a loop folder, built by `cli/commands/validate.ts` from disk (or by
 * tests by hand). Keys are POSIX paths relative to the loop root (`loop_station/flags/…`).
 */
export interface SnapshotEntry {
  kind: 'file' | 'dir' | 'symlink';
  size: number;
  mtimeMs: number;
  /** UTF-8 text of small files. */
  content?: string;
  /** Lowercase hex sha256 of the raw bytes, when the reader computed it. */
  sha256?: string;
  /** A symlink whose target resolves outside the root. */
  symlinkEscapes?: boolean;
}

export type LoopFolderSnapshot = Readonly<Record<string, SnapshotEntry>>;

/** Directory listing and lookups over a snapshot, built in one pass. */
export class SnapshotIndex {
  private readonly children = new Map<string, string[]>();

  constructor(
    readonly entries: LoopFolderSnapshot,
    private readonly hashText?: (text: string) => string,
  ) {
    // Folders that appear only as prefixes of deeper paths still list their children.
    const sets = new Map<string, Set<string>>();
    for (const path of Object.keys(entries)) {
      const parts = path.split('/');
      for (let i = 0; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        let set = sets.get(dir);
        if (!set) sets.set(dir, (set = new Set()));
        set.add(parts[i]!);
      }
    }
    for (const [dir, set] of sets) this.children.set(dir, [...set].sort());
  }

  /** Names directly inside `dir` (sorted). */
  list(dir: string): readonly string[] {
    return this.children.get(dir) ?? [];
  }

  get(path: string): SnapshotEntry | undefined {
    return this.entries[path];
  }

  /** A regular file with a non-whitespace character (the artifact gate, §3.2). */
  written(path: string): boolean {
    const e = this.entries[path];
    if (e?.kind !== 'file') return false;
    return e.content === undefined ? e.size > 0 : hasContent(e.content);
  }

  /** The file's text; a byte-order mark and CRLF line ends (editors on Windows) read as plain LF text. */
  text(path: string): string | undefined {
    const e = this.entries[path];
    return e?.kind === 'file' && e.content !== undefined
      ? e.content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
      : undefined;
  }

  /** sha256 of a file: the reader's, else the injected function over its text. */
  sha256(path: string): string | undefined {
    const e = this.entries[path];
    if (e?.kind !== 'file') return undefined;
    if (e.sha256) return e.sha256;
    return e.content !== undefined && this.hashText ? this.hashText(e.content) : undefined;
  }

  /** An entry, or a folder that only appears as the prefix of deeper paths. */
  exists(path: string): boolean {
    return this.entries[path] !== undefined || this.children.has(path);
  }

  /** The first of `paths` that exists (readers try `loop_station/` then `<root>`, §1). */
  firstExisting(paths: readonly string[]): string | undefined {
    return paths.find((p) => this.exists(p));
  }
}
