import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { loopStationDir, sessionLabel } from '../../protocol/layout.js';
import type { Finding } from '../../protocol/schemas/finding.js';
import { type ValidateReport, ValidateReportSchema } from '../../protocol/schemas/validate-report.js';
import {
  detectFolderMode,
  type LoopFolderSnapshot,
  type SnapshotEntry,
  validateLoopFolder,
} from '../../protocol/validate.js';

/** `loop-station validate <dir>`: reads a loop folder from disk and audits it (docs/protocol.md#validate). */

/** Text files up to this size are read for their content. */
const MAX_TEXT_BYTES = 1024 * 1024;
/** Variant copies up to this size are hashed (never read as text). */
const MAX_HASH_BYTES = 8 * 1024 * 1024;

/** Files whose text the validator never needs: variant copies and run logs. */
const hashOnly = (rel: string) => /(^|\/)code_variants\/[^/]+\/[^/]+\/files\//.test(rel);
const skipped = (rel: string) => /^loop_station\/sessions\/[^/]+\/runs\//.test(rel);

export interface LoopFolderRead {
  root: string;
  snapshot: LoopFolderSnapshot;
}

export class LoopFolderMissingError extends Error {
  override readonly name = 'LoopFolderMissingError';
  constructor(readonly dir: string) {
    super(`${dir}: no loop_station/ folder here; pass the loop root or its loop_station/ folder`);
  }
}

const missing = (error: unknown) =>
  ['ENOENT', 'ENOTDIR', 'ELOOP'].includes((error as NodeJS.ErrnoException).code ?? '');

/** `op()`, or null when the path does not exist (or is a dangling link). */
async function ifExists<T>(op: () => Promise<T>): Promise<T | null> {
  try {
    return await op();
  } catch (error) {
    if (missing(error)) return null;
    throw error;
  }
}

async function entryOf(abs: string, rel: string, realRoot: string): Promise<SnapshotEntry> {
  const info = await lstat(abs);
  if (info.isSymbolicLink()) {
    const target = await ifExists(() => realpath(abs));
    const escapes = target === null || !(target === realRoot || target.startsWith(realRoot + sep));
    return { kind: 'symlink', size: info.size, mtimeMs: info.mtimeMs, symlinkEscapes: escapes };
  }
  if (info.isDirectory()) return { kind: 'dir', size: 0, mtimeMs: info.mtimeMs };
  const entry: SnapshotEntry = { kind: 'file', size: info.size, mtimeMs: info.mtimeMs };
  if (skipped(rel) || info.size > (hashOnly(rel) ? MAX_HASH_BYTES : MAX_TEXT_BYTES)) return entry;
  const bytes = await readFile(abs);
  entry.sha256 = createHash('sha256').update(bytes).digest('hex');
  if (!hashOnly(rel)) entry.content = bytes.toString('utf8');
  return entry;
}

async function walk(root: string, realRoot: string, relDir: string, out: Record<string, SnapshotEntry>): Promise<void> {
  const names = await ifExists(() => readdir(resolve(root, relDir)));
  for (const name of (names ?? []).sort()) {
    const rel = `${relDir}/${name}`;
    const entry = await entryOf(resolve(root, rel), rel, realRoot);
    out[rel] = entry;
    if (entry.kind === 'dir') await walk(root, realRoot, rel, out);
  }
}

/** Builds the validator's snapshot; `dir` is the loop root or its loop_station/ folder. */
export async function readLoopFolder(dir: string): Promise<LoopFolderRead> {
  const abs = resolve(dir);
  const root = basename(abs) === loopStationDir ? dirname(abs) : abs;
  const info = await ifExists(() => lstat(resolve(root, loopStationDir)));
  if (!info?.isDirectory()) throw new LoopFolderMissingError(dir);
  const realRoot = await realpath(root);
  const snapshot: Record<string, SnapshotEntry> = {};
  await walk(root, realRoot, loopStationDir, snapshot);
  // Readers also try <root> for these (docs/protocol.md#layout).
  for (const name of ['leaderboard.csv', 'FINAL_SUMMARY.md']) {
    const e = await ifExists(() => entryOf(resolve(root, name), name, realRoot));
    if (e) snapshot[name] = e;
  }
  await walk(root, realRoot, 'code_variants', snapshot);
  return { root, snapshot };
}

export interface ValidateCommandOptions {
  dir: string;
  /** Warnings fail too. */
  strict?: boolean;
  json?: boolean;
}

export interface ValidateCommandResult {
  exitCode: 0 | 1 | 2;
  findings: Finding[];
  report: ValidateReport | null;
  stdout: string;
  stderr: string;
}

/** One finding as text: `ERROR CODE session 007 file: message`, then `  fix: …`. */
export function formatFinding(f: Finding): string {
  const where = [
    f.session === null ? null : `session ${sessionLabel(f.session)}`,
    f.file === null ? null : `${f.file}:`,
  ]
    .filter(Boolean)
    .join(' ');
  return `${f.severity.toUpperCase()} ${f.code}${where ? ` ${where}` : ':'} ${f.message}\n  fix: ${f.fix}`;
}

export async function validateCommand(options: ValidateCommandOptions): Promise<ValidateCommandResult> {
  let read: LoopFolderRead;
  try {
    read = await readLoopFolder(options.dir);
  } catch (error) {
    if (error instanceof LoopFolderMissingError)
      return { exitCode: 2, findings: [], report: null, stdout: '', stderr: `${error.message}\n` };
    throw error;
  }
  const strict = options.strict ?? false;
  const findings = validateLoopFolder(read.snapshot, { strict });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  const report = ValidateReportSchema.parse({
    dir: options.dir,
    root: read.root,
    mode: detectFolderMode(read.snapshot),
    strict,
    ok: errors === 0,
    errors,
    warnings,
    findings,
  });
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const summary = findings.length
    ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${relative(process.cwd(), read.root) || '.'}`
    : `clean: ${read.root} follows the protocol`;
  const stdout = options.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : `${[...findings.map(formatFinding), summary].join('\n')}\n`;
  return { exitCode: errors > 0 ? 1 : 0, findings, report, stdout, stderr: '' };
}
