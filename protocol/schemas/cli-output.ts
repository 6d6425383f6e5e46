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
  /** The loop's last evidence failure, from its memo (clipped), until a later run measures; null: none, or an older worker. */
  evidenceError: z.strictObject({ session: z.int().nonnegative(), error: z.string() }).nullable(),
});
export const LoopListSchema = z.array(LoopListItemSchema);
export type LoopList = z.infer<typeof LoopListSchema>;

/** `loop-station server status --json`: whether loops can run on a server now. */
export const ReadinessSchema = z.strictObject({
  address: z.string(),
  namespace: z.string(),
  taskQueue: z
    .string()
    .nullable()
    .meta({ description: 'The task queue checked for pollers; null when none was asked for' }),
  missingSearchAttributes: z.array(z.string()).meta({ description: 'Loop search attributes the namespace lacks' }),
  workflowPollers: z
    .int()
    .nonnegative()
    .nullable()
    .meta({ description: 'Workers that polled the task queue recently' }),
  ready: z.boolean(),
  problems: z.array(z.string()).meta({ description: 'What is not ready yet, one line each' }),
});
export type Readiness = z.infer<typeof ReadinessSchema>;

/** `loop-station dev --json`: printed once, when the stack is ready. */
export const DevReadySchema = z.strictObject({
  ready: z.literal(true),
  address: z.string(),
  namespace: z.string(),
  taskQueue: z.string().nullable().meta({ description: "The worker's task queue; null with --no-worker" }),
  ui: z.string().nullable(),
  db: z.string(),
  serverPid: z.int(),
  workerPid: z.int().nullable(),
  dashboard: z.string().nullable().meta({ description: "The dashboard's URL; null with --no-dashboard" }),
});
export type DevReady = z.infer<typeof DevReadySchema>;

/** `loop-station init --json`. */
export const InitResultSchema = z.strictObject({ file: z.string(), name: z.string() });
export type InitResult = z.infer<typeof InitResultSchema>;

/** `loop-station server ensure --json`: the Temporal CLI found or fetched, and where from. */
export const TemporalBinarySchema = z.strictObject({
  path: z.string(),
  version: z.string(),
  source: z.enum(['env', 'path', 'cache', 'sdk-download', 'build']),
});
