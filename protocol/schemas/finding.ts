import { z } from 'zod';
import { FINDING_CODES } from '../finding.js';

export const FindingSchema = z.strictObject({
  code: z.enum(FINDING_CODES),
  severity: z.enum(['error', 'warning']),
  session: z.int().nonnegative().nullable(),
  /** POSIX path relative to the loop root, or null for the loop as a whole. */
  file: z.string().nullable(),
  message: z.string().min(1),
  /** One line: what to do about it. */
  fix: z.string().min(1),
});
export type Finding = z.infer<typeof FindingSchema>;
