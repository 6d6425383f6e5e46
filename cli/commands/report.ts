import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { sdk } from '../temporal-sdk.js';
import { loopStationDir, sessionLabel } from '../../protocol/layout.js';
import { buildReportData, sessionsRun } from '../../protocol/report/data.js';
import { renderReportHtml } from '../../protocol/report/html.js';
import { renderReportMarkdown } from '../../protocol/report/md.js';
import type { ReportFiles } from '../../protocol/report/model.js';
import { type ReportResult, ReportResultSchema } from '../../protocol/schemas/report.js';
import { redactSecretShapes } from '../../protocol/secret-shapes.js';
import type { ConnectionFlags } from '../../server/connection-options.js';
import { statusQuery } from '../../workflows/messages.js';
import { cliCommand, connect, connectionArgs, loopId } from '../connect.js';
import { loopInRoot } from '../spec-globs.js';
import { ExitCode, ExitError, UsageError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';

/** `loop-station report <dir|loop-id>`: a self-contained HTML (or Markdown) report of a loop folder. */

export interface ReportOptions extends ConnectionFlags {
  /** A loop root, its loop_station/ folder, or a loop id (`loop-x` or `x`) whose status names the root. */
  target: string;
  /** @default <root>/loop_station/report.html (or .md) */
  out?: string | undefined;
  /** @default html, or md when --out ends in .md */
  format?: 'html' | 'md' | undefined;
}

/** Text files up to this size are read; larger ones are linked, not parsed. */
const MAX_TEXT_BYTES = 1024 * 1024;
/** Images up to this size are read (the model decides what it embeds); larger ones are linked. */
const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
const TEXT_RE = /\.(md|json|csv)$/i;
const IMAGE_RE = /\.(png|jpe?g|gif|webp)$/i;
const STATUS_DEADLINE_MS = 10_000;

const firstLine = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0] : String(error));

/** Folders the report never needs: flags, run logs, variant file copies, compact notes. */
const pruned = (rel: string) =>
  /^loop_station\/flags$/.test(rel) ||
  /^loop_station\/sessions\/[^/]+\/runs$/.test(rel) ||
  /(^|\/)code_variants\/[^/]+\/[^/]+\/files$/.test(rel) ||
  /^loop_station\/summaries\/compact$/.test(rel);

const missing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if (missing(error)) return false;
    throw error;
  }
}

async function walk(
  root: string,
  relDir: string,
  skip: string,
  files: Record<string, string | Uint8Array>,
): Promise<void> {
  let entries;
  try {
    entries = await readdir(resolve(root, relDir), { withFileTypes: true });
  } catch (error) {
    if (missing(error)) return;
    throw error;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = `${relDir}/${entry.name}`;
    const abs = resolve(root, rel);
    // Symlinks are not followed: the protocol keeps every path inside the root (§0).
    if (entry.isDirectory()) {
      if (!pruned(rel)) await walk(root, rel, skip, files);
    } else if (entry.isFile() && abs !== skip) {
      await readEntry(abs, rel, files);
    }
  }
}

/**
 * Reads one file into `files`. Text is agent-written or quotes agents (reports, reviews, decisions,
 * summaries), so what is shaped like a credential is redacted here, where the report and the
 * dashboard read it, before any renderer sees it.
 */
async function readEntry(abs: string, rel: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const text = TEXT_RE.test(rel);
  if (!text && !IMAGE_RE.test(rel)) return;
  const info = await lstat(abs);
  if (!info.isFile()) return;
  if (text) files[rel] = info.size <= MAX_TEXT_BYTES ? redactSecretShapes(await readFile(abs, 'utf8')) : '';
  else files[rel] = info.size <= MAX_IMAGE_BYTES ? new Uint8Array(await readFile(abs)) : new Uint8Array();
}

/** The files the report model reads, keyed by POSIX path relative to the root; `skip` is the report itself. */
export async function readReportFiles(root: string, skip = ''): Promise<ReportFiles> {
  const files: Record<string, string | Uint8Array> = {};
  await walk(root, loopStationDir, skip, files);
  // Readers also try <root> for these (docs/protocol.md#layout).
  for (const name of ['leaderboard.csv', 'FINAL_SUMMARY.md']) {
    try {
      await readEntry(resolve(root, name), name, files);
    } catch (error) {
      if (!missing(error)) throw error;
    }
  }
  await walk(root, 'code_variants', skip, files);
  return files;
}

const noFolder = (dir: string) =>
  new UsageError(
    `${dir}: no loop_station/ folder here\n` +
      `  fix: pass the loop root (the folder holding loop_station/), its loop_station/ folder, or a loop id`,
  );

/** A folder target gives its root; anything else is a loop id, whose status query names the root. */
async function resolveRoot(options: ReportOptions, out: Output, quiet: boolean): Promise<string> {
  const abs = resolve(options.target);
  if (await isDirectory(abs)) {
    const root = basename(abs) === loopStationDir ? dirname(abs) : abs;
    if (!(await isDirectory(join(root, loopStationDir)))) throw noFolder(options.target);
    return root;
  }
  const exists = await lstat(abs).then(
    () => true,
    (error: unknown) => (missing(error) ? false : Promise.reject(error)),
  );
  if (exists)
    throw new UsageError(
      `${options.target} is a file, not a loop folder\n` +
        `  fix: pass the loop root (the folder holding loop_station/), its loop_station/ folder, or a loop id`,
    );
  if (/[/\\]|^[.~]/.test(options.target)) {
    throw new UsageError(
      `${options.target}: no such folder\n` +
        '  fix: pass an existing loop root or its loop_station/ folder, or a loop id ' +
        `(see \`${cliCommand('list', connectionArgs(options))}\`)`,
    );
  }
  const workflowId = loopId(options.target);
  const conn = await connect(options);
  let root: string;
  try {
    const status = await conn.client.withDeadline(Date.now() + STATUS_DEADLINE_MS, () =>
      conn.client.workflow.getHandle(workflowId).query(statusQuery),
    );
    root = status.root;
  } catch (error) {
    if (error instanceof sdk().WorkflowNotFoundError) {
      throw new ExitError(
        ExitCode.failed,
        `${options.target}: no such folder, and no loop ${workflowId} in namespace ${conn.namespace}\n` +
          `  fix: pass the loop's folder, or find its id with \`${conn.cli('list')}\``,
      );
    }
    throw new ExitError(
      ExitCode.failed,
      `${workflowId}: its status query got no answer (${firstLine(error)}), so its folder is unknown\n` +
        `  fix: start a worker (\`loop-station worker\`), or pass the loop's folder instead of its id`,
    );
  } finally {
    await conn.close();
  }
  if (!quiet && !out.json) out.log(`${workflowId}: folder ${root}`);
  if (!(await isDirectory(join(root, loopStationDir)))) {
    throw new ExitError(
      ExitCode.failed,
      `${workflowId} writes to ${root}, but there is no loop_station/ folder there on this machine\n` +
        `  fix: run the report where the loop's folder is, or copy the folder here and pass its path`,
    );
  }
  // A loop that failed when it locked its frame (the root held another loop) never wrote there.
  const holder = await loopInRoot(root);
  if (holder !== null && holder !== workflowId) {
    const again = connectionArgs(options);
    throw new ExitError(
      ExitCode.failed,
      `${workflowId} names the root ${root}, but that root holds loop ${holder} (loop_station/contract.json): ` +
        `${workflowId} wrote nothing there\n  fix: \`${cliCommand(`status ${workflowId}`, again)}\` says how it ` +
        `ended; \`${cliCommand(`report ${holder}`, again)}\` reports the loop that holds it`,
    );
  }
  return root;
}

/**
 * Creates `dir` and its missing parents one at a time. Not `mkdir(…, { recursive: true })`: on a path
 * in a file system that refuses new folders (`/proc/x/y`) Node's recursive mkdir never returns.
 */
async function makeFolders(dir: string): Promise<void> {
  const missingDirs: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const found = await stat(d).then(
      (s) => s,
      (error: unknown) => (missing(error) ? null : Promise.reject(error)),
    );
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error(`${d} is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    missingDirs.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missingDirs) await mkdir(d);
}

/** Writes through a temporary file and a rename, so a reader never sees half a report; a bad path is said. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await makeFolders(dirname(path));
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const why: Record<string, string> = {
      ENOTDIR: 'a part of the path is a file, not a folder',
      EACCES: 'no permission to write there',
      EPERM: 'no permission to write there',
      EROFS: 'the file system is read-only',
      ENOSPC: 'the disk is full',
      ENOENT: 'a folder on the path cannot be created there',
    };
    throw new ExitError(
      ExitCode.failed,
      `--out ${path}: cannot write the report (${code}${why[code] ? `: ${why[code]}` : ''})\n` +
        '  fix: give a path in a folder you can write to, such as one under the loop root',
    );
  }
}

export async function reportCommand(
  options: ReportOptions,
  out: Output,
  extra: { quiet?: boolean } = {},
): Promise<ReportResult> {
  if (options.format !== undefined && options.format !== 'html' && options.format !== 'md') {
    throw new UsageError(
      `--format ${String(options.format)}: must be html or md\n  fix: pass --format html (the default) or --format md`,
    );
  }
  const format = options.format ?? (options.out && /\.(md|markdown)$/i.test(options.out) ? 'md' : 'html');
  const quiet = extra.quiet ?? false;
  const root = await resolveRoot(options, out, quiet);
  const path = resolve(options.out ?? join(root, loopStationDir, `report.${format}`));
  if (await isDirectory(path))
    throw new UsageError(
      `--out ${options.out}: is a folder\n` +
        `  fix: give a file path, such as ${join(options.out ?? '', `report.${format}`)}`,
    );

  const data = buildReportData(await readReportFiles(root, path));
  const hrefBase = relative(dirname(path), root).split(sep).join('/');
  const generatedAt = new Date().toISOString();
  const render = { hrefBase, generatedAt, fallbackTitle: basename(root) };
  const text = format === 'md' ? renderReportMarkdown(data, render) : renderReportHtml(data, render);
  await writeAtomic(path, text);

  const result = ReportResultSchema.parse({
    path,
    format,
    root,
    sessions: sessionsRun(data),
    metric: data.metric,
    best: data.best,
    stopReason: data.stopReason,
  });
  if (quiet && !out.json) return result;
  if (!out.json) {
    const plural = result.sessions === 1 ? '' : 's';
    const best = data.best
      ? `, best ${data.metric ?? 'value'} ${data.best.value} at session ${sessionLabel(data.best.session)}`
      : '';
    out.log(`report of ${result.sessions} session${plural}${best}`);
  }
  return emit(out, result, path);
}
