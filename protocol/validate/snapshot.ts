import { sessionFolderName } from '../layout.js';
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

const UNPADDED_SESSION_FOLDER = /^(loop_station\/(?:flags|sessions|reviews)\/)(session_\d+)(?=\/|$)/;

/**
 * `loop_station/flags/session_7/…` → `loop_station/flags/session_007/…`: hand-run folders of the
 * original may write session folders unpadded (§2.4), and flags list paths through them; every
 * reader sees the one spelling the engine writes.
 */
export function canonicalSessionPath(path: string): string {
  return path.replace(UNPADDED_SESSION_FOLDER, (whole, root: string, folder: string) => {
    const canonical = sessionFolderName(Number(folder.slice('session_'.length)));
    return canonical === folder ? whole : `${root}${canonical}`;
  });
}

/**
 * Directory listing and lookups over a snapshot, built in one pass. Session folders written
 * unpadded are read under their canonical name (canonicalSessionPath); `renamedFolders` keeps
 * what was written, for the warning and for the paths findings name.
 */
export class SnapshotIndex {
  private readonly children = new Map<string, string[]>();
  readonly entries: LoopFolderSnapshot;
  /** Canonical session folder path → the folder as written, for those written otherwise. */
  readonly renamedFolders = new Map<string, string>();

  constructor(
    written: LoopFolderSnapshot,
    private readonly hashText?: (text: string) => string,
  ) {
    const entries: Record<string, SnapshotEntry> = {};
    for (const [path, entry] of Object.entries(written)) {
      const canonical = canonicalSessionPath(path);
      if (canonical !== path) {
        const m = UNPADDED_SESSION_FOLDER.exec(path)!;
        this.renamedFolders.set(canonicalSessionPath(m[0]), m[0]);
      }
      // A folder written both ways keeps the canonical one's entry.
      if (canonical === path || !(canonical in written)) entries[canonical] = entry;
    }
    this.entries = entries;
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
    return this.children.get(canonicalSessionPath(dir)) ?? [];
  }

  get(path: string): SnapshotEntry | undefined {
    return this.entries[canonicalSessionPath(path)];
  }

  /** `path` as the folder spells it: a canonical session folder back to how it was written. */
  asWritten(path: string): string {
    const m = /^loop_station\/(?:flags|sessions|reviews)\/session_\d+/.exec(path);
    const as = m ? this.renamedFolders.get(m[0]) : undefined;
    return as ? as + path.slice(m![0].length) : path;
  }

  /** A regular file with a non-whitespace character (the artifact gate, §3.2). */
  written(path: string): boolean {
    const e = this.get(path);
    if (e?.kind !== 'file') return false;
    return e.content === undefined ? e.size > 0 : hasContent(e.content);
  }

  /** The file's text; a byte-order mark and CRLF line ends (editors on Windows) read as plain LF text. */
  text(path: string): string | undefined {
    const e = this.get(path);
    return e?.kind === 'file' && e.content !== undefined
      ? e.content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
      : undefined;
  }

  /** sha256 of a file: the reader's, else the injected function over its text. */
  sha256(path: string): string | undefined {
    const e = this.get(path);
    if (e?.kind !== 'file') return undefined;
    if (e.sha256) return e.sha256;
    return e.content !== undefined && this.hashText ? this.hashText(e.content) : undefined;
  }

  /** An entry, or a folder that only appears as the prefix of deeper paths. */
  exists(path: string): boolean {
    return this.get(path) !== undefined || this.children.has(canonicalSessionPath(path));
  }

  /** The first of `paths` that exists (readers try `loop_station/` then `<root>`, §1). */
  firstExisting(paths: readonly string[]): string | undefined {
    return paths.find((p) => this.exists(p));
  }
}
