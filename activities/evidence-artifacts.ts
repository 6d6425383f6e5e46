import { copyFile, lstat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { evidenceArtifactsDir, loopStationDir } from '../protocol/layout.js';
import { matchFiles } from './globs.js';
import { resolveInRoot } from './paths.js';

/** Bounds of what one evidence run keeps: artifacts are for people and reviewers, not a backup. */
const MAX_FILES = 200;
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_TOTAL_BYTES = 256 * 1024 * 1024;

/**
 * Copies the files the spec's `evidence.artifacts` match into the session's evidence folder
 * (`evidence/artifacts/<path>`): the evidence command overwrites them in place every session, so
 * the evidence pack can pair this session's with the best session's. The engine's own folders are
 * never matched. Returns the copies, root-relative.
 */
export async function keepEvidenceArtifacts(
  root: string,
  globs: readonly string[],
  session: number,
): Promise<string[]> {
  if (!globs.length) return [];
  const dir = evidenceArtifactsDir(session);
  const matched = (await matchFiles(root, globs)).filter(
    (f) => f.kind === 'file' && !f.path.startsWith(`${loopStationDir}/`) && !f.path.startsWith('code_variants/'),
  );
  const kept: string[] = [];
  let total = 0;
  for (const file of matched.slice(0, MAX_FILES)) {
    const size = (await lstat(resolveInRoot(root, file.path))).size;
    if (size > MAX_FILE_BYTES || total + size > MAX_TOTAL_BYTES) continue;
    const target = resolveInRoot(root, `${dir}/${file.path}`);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(resolveInRoot(root, file.path), target);
    total += size;
    kept.push(`${dir}/${file.path}`);
  }
  return kept;
}
