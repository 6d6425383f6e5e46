import { z } from 'zod';

/** `loop-station report --json`: where the report went and what it found. */
export const ReportResultSchema = z.strictObject({
  path: z.string(),
  format: z.enum(['html', 'md']),
  root: z.string(),
  /** Sessions run, the baseline (000) not counted. */
  sessions: z.int().nonnegative(),
  metric: z.string().nullable(),
  best: z.strictObject({ session: z.int().nonnegative(), value: z.number() }).nullable(),
  stopReason: z.string().nullable(),
});
export type ReportResult = z.infer<typeof ReportResultSchema>;
