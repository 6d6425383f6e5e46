import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { codeVariantsDir, flagsDir, loopStationDir, runsDir, sessionFolderName } from '../protocol/layout.js';
import { parseFlagName } from '../protocol/flag-name.js';
import { buildReportData } from '../protocol/report/data.js';
import type { ReportData, ReportFiles } from '../protocol/report/model.js';
import { parseJson } from '../protocol/report/sources.js';
import {
  diffVariantFiles,
  type FileDiff,
  textOf,
  type VariantFile,
  variantSourceFiles,
} from '../protocol/variant-diff.js';
import { parseFlagBody } from '../protocol/schemas/flag-body.js';
import { assertRootAllowed, resolveInRoot } from '../server/loop-roots.js';
import { readReportFiles } from '../cli/commands/report.js';
import { stripTerminalEscapes } from '../protocol/terminal-text.js';
import { redactSecretShapes } from '../protocol/secret-shapes.js';

/**
 * Loop files for the dashboard, read only under the allowed roots (the worker's rule, from
 * server/loop-roots.ts) and, inside a root, only through resolveInRoot, so a link cannot lead out.
 * The report model comes from the same readers as `loop-station report`. Agents write these files,
 * so text shaped like a credential is redacted as it is read: in readReportFiles for the report
 * model, here for flags, log tails and variant diffs.
 */

export interface FlagRow {
  name: string;
  agent: string | null;
  role: string | null;
  status: string | null;
  seq: number | null;
  timestamp: string | null;
  /** reason, note or code from the body. */
  detail: string | null;
}

export interface LogTail {
  /** Root-relative path of the log. */
  path: string;
  lines: string[];
  truncated: boolean;
}

export interface VariantDiff {
  /** The variant folders compared, root-relative. */
  from: string | null;
  to: string | null;
  files: FileDiff[];
}

const MAX_FLAG_BYTES = 16 * 1024;
const MAX_DIFF_FILE_BYTES = 256 * 1024;
const MAX_DIFF_FILES = 40;

const absent = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException | null)?.code ?? '');

export class LoopFiles {
  private readonly reports = new Map<
    string,
    { key: string; value: Promise<{ files: ReportFiles; data: ReportData }> }
  >();

  constructor(readonly allowRoots: readonly string[]) {}

  /** Throws RootNotAllowedError for a root outside the allowed folders. */
  checkRoot(root: string): void {
    assertRootAllowed(root, this.allowRoots);
  }

  /**
   * The report model of a loop folder, read again only when `key` changes (the loop's state moved).
   * loop_station/ and code_variants/ must not be links out of the root: the walk below follows none inside them.
   */
  report(root: string, key: string): Promise<{ files: ReportFiles; data: ReportData }> {
    const kept = this.reports.get(root);
    if (kept?.key === key) return kept.value;
    const value = (async () => {
      this.checkRoot(root);
      resolveInRoot(root, loopStationDir);
      resolveInRoot(root, 'code_variants');
      const files = await readReportFiles(root);
      return { files, data: buildReportData(files) };
    })();
    this.reports.set(root, { key, value });
    value.catch(() => this.reports.delete(root));
    // A folder model holds its images (up to 16 MiB embedded): keep a few loops, not all.
    if (this.reports.size > 6) this.reports.delete(this.reports.keys().next().value!);
    return value;
  }

  /** A session's flags in the order they were written: by seq, then time, then name. */
  async flags(root: string, session: number): Promise<FlagRow[]> {
    this.checkRoot(root);
    const dir = flagsDir(session);
    let names: string[];
    try {
      names = (await readdir(resolveInRoot(root, dir))).filter((n) => n.endsWith('.flag'));
    } catch (error) {
      if (absent(error)) return [];
      throw error;
    }
    const rows = await Promise.all(
      names.map(async (name): Promise<FlagRow | null> => {
        const abs = resolveInRoot(root, `${dir}/${name}`);
        const info = await lstat(abs).catch(() => null);
        if (!info?.isFile()) return null;
        const body = info.size <= MAX_FLAG_BYTES ? await readFile(abs, 'utf8').catch(() => '') : '';
        const { fields } = parseFlagBody(redactSecretShapes(body));
        const parsed = parseFlagName(name);
        return {
          name,
          agent: parsed?.agent ?? fields.producer ?? null,
          role: parsed?.role ?? fields.role ?? null,
          status: parsed?.status ?? fields.status ?? null,
          seq: fields.seq ?? null,
          timestamp: fields.timestamp ?? null,
          detail: fields.reason ?? fields.note ?? fields.code ?? null,
        };
      }),
    );
    return rows
      .filter((r): r is FlagRow => r !== null)
      .sort(
        (a, b) =>
          (a.seq ?? Infinity) - (b.seq ?? Infinity) ||
          (a.timestamp ?? '').localeCompare(b.timestamp ?? '') ||
          a.name.localeCompare(b.name),
      );
  }

  /**
   * The last lines of a run's output: `runs/{AGENT}-{ROLE}.log` when named, else the newest log of
   * the session's runs/ folder. Terminal escapes are removed and credential shapes redacted; the
   * text is shown escaped.
   */
  async tail(
    root: string,
    session: number,
    run: { agent: string; role: string } | null,
    maxLines = 20,
    maxBytes = 16 * 1024,
  ): Promise<LogTail | null> {
    this.checkRoot(root);
    const dir = runsDir(session);
    let path = run ? `${dir}/${run.agent}-${run.role}.log` : null;
    if (!path) {
      const entries = await readdir(resolveInRoot(root, dir)).catch(() => [] as string[]);
      const logs = await Promise.all(
        entries
          .filter((n) => n.endsWith('.log'))
          .map(async (n) => ({ n, info: await lstat(resolveInRoot(root, `${dir}/${n}`)).catch(() => null) })),
      );
      const newest = logs
        .filter((l) => l.info?.isFile() && l.info.size > 0)
        .sort((a, b) => b.info!.mtimeMs - a.info!.mtimeMs)[0];
      if (!newest) return null;
      path = `${dir}/${newest.n}`;
    }
    const abs = resolveInRoot(root, path);
    const info = await lstat(abs).catch(() => null);
    if (!info?.isFile()) return null;
    const start = Math.max(0, info.size - maxBytes);
    const handle = await open(abs, 'r');
    let text: string;
    try {
      const buffer = Buffer.alloc(info.size - start);
      await handle.read(buffer, 0, buffer.length, start);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
    let lines = redactSecretShapes(stripTerminalEscapes(text)).split(/\r?\n/);
    if (start > 0) lines = lines.slice(1);
    if (lines.at(-1) === '') lines.pop();
    return { path, lines: lines.slice(-maxLines), truncated: start > 0 || lines.length > maxLines };
  }

  /** What changed from one session's code variant to another's (the best's, or the baseline's). */
  async variantDiff(root: string, files: ReportFiles, from: number, to: number): Promise<VariantDiff> {
    this.checkRoot(root);
    const a = variantOf(files, from);
    const b = variantOf(files, to);
    const out: VariantDiff = { from: a?.dir ?? null, to: b?.dir ?? null, files: [] };
    if (!a || !b) return out;
    out.files = await diffVariantFiles(
      [...a.files.keys(), ...b.files.keys()],
      (side, path) => readVariantFile(root, side === 'from' ? a : b, path),
      {
        names: (path) => ({ from: `session_${label(from)}/${path}`, to: `session_${label(to)}/${path}` }),
        maxFiles: MAX_DIFF_FILES,
      },
    );
    return out;
  }
}

const label = (n: number) => String(n).padStart(3, '0');

interface Variant {
  dir: string;
  /** Source path → the copy's path inside the variant folder. */
  files: Map<string, string>;
}

/**
 * A session's variant from its manifest.json (`candidate` first, then `baseline`, then any): its
 * workspace files only. The baseline also lists the protected files it left untouched; they are
 * the same in every session, and a candidate does not copy them.
 */
function variantOf(files: ReportFiles, session: number): Variant | null {
  const prefix = `${codeVariantsDir}/${sessionFolderName(session)}/`;
  const manifests = Object.keys(files).filter(
    (p) => p.startsWith(prefix) && /^[^/]+\/manifest\.json$/.test(p.slice(prefix.length)),
  );
  const rank = (p: string) => (p.includes('/candidate/') ? 0 : p.includes('/baseline/') ? 1 : 2);
  const path = manifests.sort((x, y) => rank(x) - rank(y) || x.localeCompare(y))[0];
  if (!path) return null;
  const map = variantSourceFiles(parseJson(typeof files[path] === 'string' ? files[path] : undefined));
  return { dir: path.slice(0, -'/manifest.json'.length), files: map };
}

async function readVariantFile(root: string, variant: Variant, source: string): Promise<VariantFile> {
  const copy = variant.files.get(source);
  if (!copy) return { kind: 'missing' };
  let abs: string;
  try {
    abs = resolveInRoot(root, `${variant.dir}/${copy}`);
  } catch {
    return { kind: 'missing' };
  }
  const info = await lstat(abs).catch(() => null);
  if (!info?.isFile()) return { kind: 'missing' };
  if (info.size > MAX_DIFF_FILE_BYTES) return { kind: 'binary', size: info.size };
  const text = textOf(await readFile(abs));
  return text === null ? { kind: 'binary', size: info.size } : { kind: 'text', text: redactSecretShapes(text) };
}
