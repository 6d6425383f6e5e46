import { copyFile, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { compileGlobs } from '../protocol/glob.js';
import { codeVariantSessionDir, sessionDir } from '../protocol/layout.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { CodeVariantCheck } from '../protocol/schemas/state.js';
import { VariantManifestSchema } from '../protocol/schemas/variant-manifest.js';
import { runEvidence } from './evidence.js';
import { writeFileAtomic } from './flags.js';
import { matchFiles } from './globs.js';
import { resolveInRoot } from './paths.js';
import { isAbsent, readOptionalText } from './read-optional.js';

/**
 * The isolated code variant a `needs_code_variant` decision asks the next executor for
 * (docs/protocol.md#code-variants): found under `code_variants/session_NNN/<slug>/`, its manifest
 * checked, and measured by the loop's own evidence command in a copy of the workspace (and the
 * protected files, read-only copies) with the variant's files put in place, under
 * `sessions/session_NNN/variant_eval/<slug>/`. The workspace and the protected files are never
 * touched, and the engine never runs anything the variant names (its entrypoint is for people).
 */

export interface CheckCodeVariantInput {
  root: string;
  session: number;
  evidence: LoopConfig['evidence'];
  env: readonly string[];
  workspace: readonly string[];
  protected: readonly string[];
}

const RESERVED = new Set(['candidate', 'baseline']);

export async function checkCodeVariant(input: CheckCodeVariantInput): Promise<CodeVariantCheck> {
  const { root, session } = input;
  const folder = codeVariantSessionDir(session);
  const entries = await readdir(resolveInRoot(root, folder), { withFileTypes: true }).catch((error: unknown) =>
    isAbsent(error) ? [] : Promise.reject(error),
  );
  const slugs = entries
    .filter((e) => e.isDirectory() && !RESERVED.has(e.name))
    .map((e) => e.name)
    .sort();
  if (slugs.length === 0)
    return {
      dir: null,
      problem: `the executor made no isolated variant under ${folder}/<slug>/ (a needs_code_variant decision asked for one)`,
      evidence: null,
    };
  const slug = slugs[0]!;
  const dir = `${folder}/${slug}`;
  const problem = await manifestProblem(input, dir, slug);
  if (problem !== null) return { dir, problem, evidence: null };

  const copy = `${sessionDir(session)}/variant_eval/${slug}`;
  await rm(resolveInRoot(root, copy), { recursive: true, force: true });
  const manifest = VariantManifestSchema.parse(JSON.parse((await readOptionalText(root, `${dir}/manifest.json`))!));
  const base = await matchFiles(root, [...input.workspace, ...input.protected]);
  for (const file of base.filter((f) => f.kind === 'file')) await place(root, file.path, `${copy}/${file.path}`);
  for (const f of manifest.variant_files) await place(root, `${dir}/${f.path}`, `${copy}/${f.source_path}`);
  const evidence = await runEvidence({
    root,
    session,
    evidence: input.evidence,
    env: input.env,
    within: { dir: copy, name: 'variant' },
  });
  await writeFileAtomic(
    root,
    `${sessionDir(session)}/variant_check.json`,
    `${JSON.stringify({ dir, copy, evidence }, null, 2)}\n`,
  );
  return { dir, problem: null, evidence };
}

async function place(root: string, from: string, to: string): Promise<void> {
  const target = resolveInRoot(root, to);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(resolveInRoot(root, from), target);
}

/** Why the variant cannot be measured: its manifest is missing or invalid, a file is missing, or it would replace a protected file. */
async function manifestProblem(input: CheckCodeVariantInput, dir: string, slug: string): Promise<string | null> {
  const text = await readOptionalText(input.root, `${dir}/manifest.json`);
  if (text === null) return `${dir}/manifest.json is missing`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `${dir}/manifest.json is not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  const parsed = VariantManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `${dir}/manifest.json: ${issue.path.join('.') || 'manifest'}: ${issue.message}`;
  }
  const m = parsed.data;
  if (m.session !== input.session) return `${dir}/manifest.json says session ${m.session}, not ${input.session}`;
  if (m.change_slug !== slug) return `${dir}/manifest.json says change_slug ${m.change_slug}, not ${slug}`;
  if (m.variant_files.length === 0) return `${dir}/manifest.json lists no variant_files`;
  const isProtected = compileGlobs(input.protected, 'picomatch');
  for (const f of m.variant_files) {
    if (isProtected.includes(f.source_path))
      return `${dir}: variant file ${f.path} would replace the protected file ${f.source_path}`;
    const info = await lstat(resolveInRoot(input.root, `${dir}/${f.path}`)).catch(() => null);
    if (!info?.isFile()) return `${dir}/${f.path} (listed in variant_files) is not a file`;
  }
  return null;
}
