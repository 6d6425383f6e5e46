import { z } from 'zod';
import { CHANGE_SLUG_RE } from '../layout.js';

/** manifest.json and restore_manifest.json of code variants (docs/protocol.md#code-variants). */

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const RelPathSchema = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a POSIX path inside the root');

export const SourceFileSchema = z.strictObject({
  path: RelPathSchema,
  sha256_before_copy: Sha256Schema,
  size_bytes: z.int().nonnegative(),
  protection_mode: z.enum(['copied', 'untouched', 'direct_edit_approved']),
  backup_path_if_direct_edit: RelPathSchema.nullable(),
});

export const VariantManifestSchema = z
  .strictObject({
    session: z.int().nonnegative(),
    change_slug: z.string().regex(CHANGE_SLUG_RE),
    reason: z.string(),
    source_files: z.array(SourceFileSchema),
    variant_files: z.array(z.strictObject({ path: RelPathSchema, source_path: RelPathSchema })),
    entrypoint: z.string().nullable(),
    config: z.string().nullable(),
    command: z.string().nullable(),
    maintained_source_modified: z.boolean(),
    restore_manifest: RelPathSchema.nullable(),
    created_at: z.string(),
    /** Engine addition: the matcher that chose the files; absent = the engine's matcher before picomatch (docs/patterns.md). */
    pattern_syntax: z.literal('picomatch').optional(),
  })
  .superRefine((m, ctx) => {
    if (m.maintained_source_modified && m.restore_manifest === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['restore_manifest'],
        message: 'maintained_source_modified: true needs a restore_manifest',
      });
    }
    m.source_files.forEach((f, i) => {
      if (f.protection_mode === 'direct_edit_approved' && f.backup_path_if_direct_edit === null) {
        ctx.addIssue({
          code: 'custom',
          path: ['source_files', i, 'backup_path_if_direct_edit'],
          message: 'direct_edit_approved needs a backup path',
        });
      }
    });
  });
export type VariantManifest = z.infer<typeof VariantManifestSchema>;

export const RestoreManifestSchema = z.strictObject({
  session: z.int().nonnegative(),
  /** `decision session_NNN`, an approve, or `protected baseline`. */
  approval_reference: z.string().min(1),
  reason_direct_edit_was_unavoidable: z.string(),
  created_at: z.string(),
  edited_files: z.array(
    z.strictObject({
      path: RelPathSchema,
      backup_path: RelPathSchema.nullable(),
      sha256_before_edit: Sha256Schema.nullable(),
      sha256_after_edit: Sha256Schema.nullable(),
      restore_command_or_procedure: z.string().min(1),
    }),
  ),
  restore_verified: z.boolean(),
  notes: z.string(),
});
export type RestoreManifest = z.infer<typeof RestoreManifestSchema>;
