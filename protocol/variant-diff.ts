import { createTwoFilesPatch } from 'diff';

/**
 * What changed between two code variants, file by file, as unified diffs (jsdiff): one home for
 * the dashboard's code view and the evidence pack. The caller reads the files (each side its own
 * way); binary, unreadable and oversized files are named, never inlined.
 */

export type VariantFile = { kind: 'text'; text: string } | { kind: 'binary'; size: number } | { kind: 'missing' };

export interface FileDiff {
  /** Root-relative path of the workspace file (`…` for the line that says more files differ). */
  path: string;
  /** A unified diff without jsdiff's `====` rule; null when a side is binary or too large. */
  patch: string | null;
  /** `added`, `removed`, `binary or too large to show`…; null for an ordinary change. */
  note: string | null;
}

export interface DiffOptions {
  /** The `---` / `+++` names of a file (the dashboard: `session_003/x.py`; the pack: the path, with a header). */
  names: (path: string) => { from: string; to: string; fromHeader?: string; toHeader?: string };
  /** Files listed at most; one more line says the rest were left out. */
  maxFiles: number;
  /** Edit distance (lines) past which a file's diff is not computed, so a rewrite costs no more than a summary. */
  maxEditLength?: number;
}

/** Text a diff can show: valid UTF-8 without NUL and with few control characters; else null. */
export function textOf(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const controls = text.match(/[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/g)?.length ?? 0;
  return controls > text.length / 100 ? null : text;
}

const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * A variant's workspace files from its manifest.json: source path → the copy's path inside the
 * variant folder. The baseline also lists the protected files it left `untouched`: they are the same
 * in every session and a candidate does not copy them, so they are left out.
 */
export function variantSourceFiles(manifest: unknown): Map<string, string> {
  const m = record(manifest);
  const untouched = new Set(
    (Array.isArray(m.source_files) ? m.source_files.map(record) : [])
      .filter((f) => f.protection_mode === 'untouched')
      .map((f) => f.path),
  );
  const out = new Map<string, string>();
  for (const e of Array.isArray(m.variant_files) ? m.variant_files.map(record) : [])
    if (typeof e.source_path === 'string' && typeof e.path === 'string' && !untouched.has(e.source_path))
      out.set(e.source_path, e.path);
  return out;
}

/** One file's change, or null when both sides hold the same text (or neither exists). */
export function diffFile(path: string, left: VariantFile, right: VariantFile, options: DiffOptions): FileDiff | null {
  if (left.kind === 'missing' && right.kind === 'missing') return null;
  if (left.kind === 'text' && right.kind === 'text' && left.text === right.text) return null;
  const note = left.kind === 'missing' ? 'added' : right.kind === 'missing' ? 'removed' : null;
  if (left.kind === 'binary' || right.kind === 'binary') {
    const sizes = [left, right].map((f) => (f.kind === 'binary' ? `${f.size} bytes` : f.kind));
    return { path, patch: null, note: `binary or too large to show (${sizes.join(' → ')})` };
  }
  const n = options.names(path);
  const patch = createTwoFilesPatch(
    n.from,
    n.to,
    left.kind === 'text' ? left.text : '',
    right.kind === 'text' ? right.text : '',
    n.fromHeader,
    n.toHeader,
    { context: 3, maxEditLength: options.maxEditLength ?? 20_000 },
  );
  if (patch === undefined) return { path, patch: null, note: 'changed too much to show line by line' };
  // Without the Index: and ==== lines jsdiff puts first: --- and +++ name the two sides.
  const lines = patch.split('\n');
  return {
    path,
    patch: lines
      .slice(lines.findIndex((l) => l.startsWith('--- ')))
      .join('\n')
      .trimEnd(),
    note,
  };
}

/** Every file that differs between two variants, in path order, at most `maxFiles` of them. */
export async function diffVariantFiles(
  paths: Iterable<string>,
  read: (side: 'from' | 'to', path: string) => Promise<VariantFile>,
  options: DiffOptions,
): Promise<FileDiff[]> {
  const out: FileDiff[] = [];
  for (const path of [...new Set(paths)].sort()) {
    const [left, right] = await Promise.all([read('from', path), read('to', path)]);
    const diff = diffFile(path, left, right, options);
    if (!diff) continue;
    if (out.length >= options.maxFiles) {
      out.push({ path: '…', patch: null, note: `more files differ; only the first ${options.maxFiles} are shown` });
      break;
    }
    out.push(diff);
  }
  return out;
}
