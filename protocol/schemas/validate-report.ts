import { z } from 'zod';
import { FindingSchema } from './finding.js';

/** `loop-station validate --json` output. */
export const ValidateReportSchema = z.strictObject({
  /** The folder that was read, as given. */
  dir: z.string(),
  /** The loop root the paths are relative to. */
  root: z.string(),
  mode: z.enum(['engine', 'original']),
  strict: z.boolean(),
  ok: z.boolean(),
  errors: z.int().nonnegative(),
  warnings: z.int().nonnegative(),
  findings: z.array(FindingSchema),
});
export type ValidateReport = z.infer<typeof ValidateReportSchema>;
