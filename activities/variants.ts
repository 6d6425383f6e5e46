import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, lstatSync, mkdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { copyFile, lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { codeVariantDir, restoreManifestPath, sessionLabel } from '../protocol/layout.js';
import { compileGlobs, type PatternSyntax } from '../protocol/glob.js';
import { matchFiles } from './globs.js';
import { resolveInRoot } from './paths.js';
import { writeFileAtomic, writeFilesAtomic } from './flags.js';
import { SYNC_IO_MAX_BYTES } from './read-optional.js';
import { WorkspaceSymlinkError } from './errors.js';

/**
 * Code variants (docs/protocol.md#code-variants): byte copies of the workspace with sha256 manifests, restores
 * that re-hash what they wrote, and the protected-file check run three times a session.
 */

const hashCache = new Map<string, { key: string; sha256: string }>();

/** sha256 of a file's raw bytes; cached by inode, size and mtime so big protected data is read once. */
export async function sha256File(absPath: string, info?: Stats): Promise<string> {
  const st = info ?? statSync(absPath);
  const key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const cached = hashCache.get(absPath);
  if (cached?.key === key) return cached.sha256;
  const hash = createHash('sha256');
  if (st.size <= SYNC_IO_MAX_BYTES) hash.update(readFileSync(absPath));
  else for await (const chunk of createReadStream(absPath)) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  hashCache.set(absPath, { key, sha256 });
  return sha256;
}

export interface FileHash {
  path: string;
  /** `symlink` for a link: never followed (it may lead out of the root), never equal to a file's hash. */
  sha256: string;
  size: number;
}

const SYMLINK = 'symlink';

/** Hashes every file matching `globs`; symlinks are listed, not followed (§7: they are an error). */
export async function hashFiles(
  root: string,
  globs: readonly string[],
  syntax: PatternSyntax = 'picomatch',
): Promise<FileHash[]> {
  const files = await matchFiles(root, globs, syntax);
  const out: FileHash[] = [];
  for (const file of files) {
    if (file.kind === 'symlink') {
      out.push({ path: file.path, sha256: SYMLINK, size: 0 });
      continue;
    }
    const abs = resolveInRoot(root, file.path);
    // A regular file (matchFiles says so): its lstat is its stat.
    const info = lstatSync(abs);
    out.push({ path: file.path, sha256: await sha256File(abs, info), size: info.size });
  }
  return out;
}

export interface VariantManifest {
  session: number;
  change_slug: string;
  reason: string;
  source_files: {
    path: string;
    sha256_before_copy: string;
    size_bytes: number;
    protection_mode: 'copied' | 'untouched';
    backup_path_if_direct_edit: null;
  }[];
  variant_files: { path: string; source_path: string }[];
  entrypoint: string | null;
  config: string | null;
  command: string;
  maintained_source_modified: false;
  restore_manifest: null;
  created_at: string;
  /** The matcher that chose the files (absent in variants of engines before picomatch: `legacy`). */
  pattern_syntax: 'picomatch';
}

export interface SnapshotInput {
  root: string;
  session: number;
  slug: 'baseline' | 'candidate';
  workspace: readonly string[];
  /** Protected files go into the baseline only, marked `untouched`. */
  protectedGlobs: readonly string[];
  command: string;
  reason: string;
  createdAt: string;
}

/**
 * Copies the workspace into `code_variants/session_NNN/<slug>/files/` and writes manifest.json
 * last, so a manifest only exists for a complete copy; an identical rerun (activity retry) is a no-op.
 */
export async function snapshotVariant(input: SnapshotInput): Promise<{ dir: string; manifest: VariantManifest }> {
  const dir = codeVariantDir(input.session, input.slug);
  const manifestPath = `${dir}/manifest.json`;
  const workspace = await hashFiles(input.root, input.workspace);
  const protectedFiles = input.slug === 'baseline' ? await hashFiles(input.root, input.protectedGlobs) : [];
  const link = [...workspace, ...protectedFiles].find((f) => f.sha256 === SYMLINK);
  if (link) throw new WorkspaceSymlinkError(input.root, link.path);
  const isWorkspace = new Set(workspace.map((f) => f.path));
  const copied = [...workspace, ...protectedFiles.filter((f) => !isWorkspace.has(f.path))];
  for (const file of copied) {
    const target = resolveInRoot(input.root, `${dir}/files/${file.path}`);
    mkdirSync(dirname(target), { recursive: true });
    if (file.size <= SYNC_IO_MAX_BYTES) copyFileSync(resolveInRoot(input.root, file.path), target);
    else await copyFile(resolveInRoot(input.root, file.path), target);
    const copyHash = await sha256File(target);
    if (copyHash !== file.sha256)
      throw new Error(`${file.path} changed while it was being copied into ${dir}: rerun the step`);
  }
  const manifest: VariantManifest = {
    session: input.session,
    change_slug: input.slug,
    reason: input.reason,
    source_files: copied.map((f) => ({
      path: f.path,
      sha256_before_copy: f.sha256,
      size_bytes: f.size,
      protection_mode: isWorkspace.has(f.path) ? 'copied' : 'untouched',
      backup_path_if_direct_edit: null,
    })),
    variant_files: copied.map((f) => ({ path: `files/${f.path}`, source_path: f.path })),
    entrypoint: null,
    config: null,
    command: input.command,
    maintained_source_modified: false,
    restore_manifest: null,
    created_at: input.createdAt,
    pattern_syntax: 'picomatch',
  };
  // Both written at once; the manifest is placed last, so it exists only for a complete copy.
  await writeFilesAtomic(input.root, [
    [[`${dir}/README.md`, renderVariantReadme(input, copied.length)]],
    [[manifestPath, `${JSON.stringify(manifest, null, 2)}\n`]],
  ]);
  return { dir, manifest };
}

function renderVariantReadme(input: SnapshotInput, count: number): string {
  return [
    `# Code variant: session ${sessionLabel(input.session)} ${input.slug}`,
    '',
    `${input.reason}`,
    '',
    `- files: ${count} (under files/, paths relative to the loop root)`,
    `- evaluate: \`${input.command}\` from the loop root after restoring`,
    `- restore: the engine restores it on return_to_best, retire and pivot_axis; by hand, copy files/<path> back to <path>`,
    '',
  ].join('\n');
}

/** A variant's manifest; `syntax` is the matcher that chose its files (PatternSyntax). */
export async function readManifest(
  root: string,
  variantDir: string,
): Promise<VariantManifest & { syntax: PatternSyntax }> {
  const text = await readFile(resolveInRoot(root, `${variantDir}/manifest.json`), 'utf8');
  const manifest = JSON.parse(text) as Omit<VariantManifest, 'pattern_syntax'> & { pattern_syntax?: string };
  return { ...(manifest as VariantManifest), syntax: manifest.pattern_syntax === 'picomatch' ? 'picomatch' : 'legacy' };
}

/** Paths whose hash differs from the manifest's, that appeared, or that vanished. */
export async function compareWithVariant(
  root: string,
  variantDir: string,
  globs: readonly string[],
  mode: 'copied' | 'untouched' | 'all',
): Promise<string[]> {
  const manifest = await readManifest(root, variantDir);
  const expected = new Map(
    manifest.source_files
      .filter((f) => mode === 'all' || f.protection_mode === mode)
      .map((f) => [f.path, f.sha256_before_copy]),
  );
  const current = await hashFiles(root, globs, manifest.syntax);
  const changed = new Set<string>();
  for (const file of current) if (expected.get(file.path) !== file.sha256) changed.add(file.path);
  for (const path of expected.keys()) if (!current.some((f) => f.path === path)) changed.add(path);
  return [...changed].sort();
}

export interface RestoreInput {
  root: string;
  session: number;
  variantDir: string;
  globs: readonly string[];
  approvalReference: string;
  reason: string;
  createdAt: string;
}

export interface RestoreResult {
  manifestPath: string | null;
  edited: string[];
  verified: boolean;
}

/**
 * Makes the files matching `globs` byte-identical to the variant: copies back what differs, deletes
 * what the variant lacks, re-hashes, and records it in restore_manifest.json (-2, -3… when repeated).
 */
export async function restoreVariant(input: RestoreInput): Promise<RestoreResult> {
  const manifest = await readManifest(input.root, input.variantDir);
  const inScope = compileGlobs(input.globs, manifest.syntax);
  const target = new Map(manifest.source_files.filter((f) => inScope.includes(f.path)).map((f) => [f.path, f]));
  const current = new Map((await hashFiles(input.root, input.globs, manifest.syntax)).map((f) => [f.path, f]));
  const edited: {
    path: string;
    backup_path: string | null;
    sha256_before_edit: string | null;
    sha256_after_edit: string | null;
    restore_command_or_procedure: string;
  }[] = [];
  for (const [path, want] of target) {
    const have = current.get(path);
    if (have?.sha256 === want.sha256_before_copy) continue;
    const from = `${input.variantDir}/files/${path}`;
    // A symlink in its place is removed, never written through (it may point out of the root).
    if (have?.sha256 === SYMLINK) await rm(linkPath(input.root, path));
    const abs = resolveInRoot(input.root, path);
    await mkdir(dirname(abs), { recursive: true });
    await copyFile(resolveInRoot(input.root, from), abs);
    // A symlink had no bytes of its own here: recorded as absent (null), its removal noted in the procedure.
    const before = have && have.sha256 !== SYMLINK ? have.sha256 : null;
    edited.push({
      path,
      backup_path: from,
      sha256_before_edit: before,
      sha256_after_edit: want.sha256_before_copy,
      restore_command_or_procedure: `${have?.sha256 === SYMLINK ? `remove symlink ${path}; ` : ''}copy ${from} ${path}`,
    });
  }
  for (const [path, have] of current) {
    if (target.has(path)) continue;
    await rm(have.sha256 === SYMLINK ? linkPath(input.root, path) : resolveInRoot(input.root, path));
    edited.push({
      path,
      backup_path: null,
      sha256_before_edit: have.sha256 === SYMLINK ? null : have.sha256,
      sha256_after_edit: null,
      restore_command_or_procedure: `delete ${path}`,
    });
  }
  const after = new Map((await hashFiles(input.root, input.globs, manifest.syntax)).map((f) => [f.path, f.sha256]));
  const verified =
    after.size === target.size && [...target].every(([path, f]) => after.get(path) === f.sha256_before_copy);
  if (edited.length === 0 && verified) return { manifestPath: null, edited: [], verified };
  let manifestPath = restoreManifestPath(input.session);
  for (let k = 2; await exists(input.root, manifestPath); k++) manifestPath = restoreManifestPath(input.session, k);
  const restoreManifest = {
    session: input.session,
    approval_reference: input.approvalReference,
    reason_direct_edit_was_unavoidable: input.reason,
    created_at: input.createdAt,
    edited_files: edited,
    restore_verified: verified,
    notes: `restored from ${input.variantDir}`,
  };
  await writeFileAtomic(input.root, manifestPath, `${JSON.stringify(restoreManifest, null, 2)}\n`);
  return { manifestPath, edited: edited.map((e) => e.path), verified };
}

/** The link itself (its folder confined to the root), not where it points. */
function linkPath(root: string, rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0
    ? join(resolveInRoot(root, '.'), rel)
    : join(resolveInRoot(root, rel.slice(0, slash)), rel.slice(slash + 1));
}

async function exists(root: string, rel: string): Promise<boolean> {
  try {
    await lstat(resolveInRoot(root, rel));
    return true;
  } catch {
    return false;
  }
}
