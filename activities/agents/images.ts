import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { resolveInRoot } from '../paths.js';

/**
 * Images shown to a model (docs/architecture.md#agent-images): Codex gets them attached
 * (`--image`), Claude Code gets their paths to open with its Read tool. Both are capped, so a loop
 * whose evidence writes a thousand frames does not flood a context: what is left out is named in
 * the run's note and in its result, so the agent can open a left-out file itself if it must.
 */

export const IMAGE_LIMITS = { count: 8, bytes: 5 * 1024 * 1024 } as const;

/** The formats both CLIs pass to the model as images. */
const IMAGE_TYPES = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp']);

export interface ImageSelection {
  /** Root-relative paths shown to the model, in the order given. */
  attached: string[];
  /** Root-relative paths left out, each with why. */
  omitted: { path: string; reason: string }[];
}

const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

/** Picks the images to show: existing files under the root, of an image type, within the size and count caps. */
export function selectImages(root: string, paths: readonly string[]): ImageSelection {
  const selection: ImageSelection = { attached: [], omitted: [] };
  for (const path of new Set(paths)) {
    const omit = (reason: string) => selection.omitted.push({ path, reason });
    let abs: string;
    try {
      abs = resolveInRoot(root, path);
    } catch {
      omit('not under the loop root');
      continue;
    }
    if (!IMAGE_TYPES.has(extname(path).toLowerCase())) {
      omit('not a png, jpeg, gif or webp image');
      continue;
    }
    let size: number;
    try {
      const stat = statSync(abs);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch {
      omit('missing');
      continue;
    }
    if (size > IMAGE_LIMITS.bytes) omit(`${megabytes(size)}, over the ${megabytes(IMAGE_LIMITS.bytes)} limit`);
    else if (selection.attached.length >= IMAGE_LIMITS.count) omit(`over the limit of ${IMAGE_LIMITS.count} images`);
    else selection.attached.push(path);
  }
  return selection;
}
