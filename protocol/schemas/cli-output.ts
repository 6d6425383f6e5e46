import { z } from 'zod';

/** Shapes of the CLI's `--json` output that are not workflow messages (those live in messages.ts). */

export const LoopListItemSchema = z.strictObject({
  workflowId: z.string(),
  name: z.string().nullable(),
  status: z.string(),
  phase: z.string().nullable(),
  session: z.int().nullable(),
  sessions: z.int().nullable(),
  best: z.number().nullable(),
  metric: z.string().nullable(),
  startTime: z.string(),
  closeTime: z.string().nullable(),
});
export const LoopListSchema = z.array(LoopListItemSchema);
export type LoopList = z.infer<typeof LoopListSchema>;
