import { lstat } from 'node:fs/promises';
import {
  baselineVariantDir,
  candidateVariantDir,
  restoreManifestPath,
  sessionLabel,
  variantManifestPath,
} from '../protocol/layout.js';
import type { WorkingTree } from '../protocol/working-tree.js';
import type { Best } from '../protocol/schemas/state.js';
import type { StopReason } from '../protocol/vocabulary.js';
import { resolveInRoot } from './paths.js';
import { readOptionalText } from './read-optional.js';
import { compareWithVariant, restoreVariant } from './variants.js';

/**
 * The working tree at the loop's end (docs/protocol.md#final-summary): a researcher who opens the
 * folder in the morning finds the best's workspace, as the restore after a non-promote decision
 * would have made it. A user stop leaves the tree as it is (the person who stopped may be looking
 * at it, a stop --now may have cut the executor short): FINAL_SUMMARY.md and `status` say how to
 * restore.
 */
export async function settleWorkingTree(input: {
  root: string;
  workspace: readonly string[];
  best: Best | null;
  stopReason: StopReason;
  lastSession: number;
  at: string;
}): Promise<WorkingTree | null> {
  const { root, lastSession } = input;
  if (lastSession < 1) return null;
  const variantDir = input.best?.variant ?? baselineVariantDir;
  const bestSession = input.best?.session ?? 0;
  // A best without its variant on disk (a folder from before variants, moved by hand) cannot be
  // compared or restored: the summary says nothing rather than the loop's end failing.
  if (!(await exists(root, `${variantDir}/manifest.json`))) return null;
  const differing = await compareWithVariant(root, variantDir, input.workspace, 'copied');
  const lastCandidate = (await exists(root, variantManifestPath(lastSession, 'candidate')))
    ? candidateVariantDir(lastSession)
    : null;
  const base = { bestSession, variantDir, lastSession, lastCandidate, files: differing, manifest: null };
  // A retry after the restore finds the tree restored: its manifest says what was done.
  const earlier = await endRestoreManifest(root, lastSession);
  if (earlier) return { ...base, state: 'restored', files: earlier.files, manifest: earlier.path };
  if (differing.length === 0) return { ...base, state: 'best' };
  if (input.stopReason === 'user_stop') return { ...base, state: 'left' };
  const restored = await restoreVariant({
    root,
    session: lastSession,
    variantDir,
    globs: input.workspace,
    approvalReference: `${END_REFERENCE} (${input.stopReason})`,
    reason: `the loop ended (${input.stopReason}) with session ${sessionLabel(lastSession)}'s workspace, not the best's`,
    createdAt: input.at,
  });
  return {
    ...base,
    state: restored.verified ? 'restored' : 'left',
    files: restored.edited,
    manifest: restored.manifestPath,
  };
}

const END_REFERENCE = 'loop end';

/** The restore manifest this step wrote in the last session's folder, if any. */
async function endRestoreManifest(root: string, session: number): Promise<{ path: string; files: string[] } | null> {
  for (let k = 1; await exists(root, restoreManifestPath(session, k)); k++) {
    const path = restoreManifestPath(session, k);
    const manifest = JSON.parse((await readOptionalText(root, path)) ?? '{}') as {
      approval_reference?: string;
      edited_files?: { path: string }[];
    };
    if (manifest.approval_reference?.startsWith(END_REFERENCE))
      return { path, files: (manifest.edited_files ?? []).map((f) => f.path) };
  }
  return null;
}

async function exists(root: string, rel: string): Promise<boolean> {
  return lstat(resolveInRoot(root, rel)).then(
    () => true,
    () => false,
  );
}
