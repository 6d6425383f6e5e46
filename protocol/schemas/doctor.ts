import { z } from 'zod';

/**
 * What `loop-station doctor` (and `submit` before it starts a loop) finds: one line per check with
 * its one-line fix (docs/agent-setup.md#doctor). The worker-side checks come from the setup probe,
 * run on a worker of the loop's task queue (its PATH, logins, GPUs, allowed roots), or on this
 * machine when no worker polls it.
 */

export const CHECK_STATUSES = ['ok', 'warn', 'fail', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export const SetupCheckSchema = z.strictObject({
  /** `temporal`, `worker`, `spec`, `sandbox`, `root`, `cli CODEX`, `login CODEX`, `model CODEX`, `gpu CODEX`, `evidence`. */
  id: z.string(),
  status: z.enum(CHECK_STATUSES),
  message: z.string(),
  /** One line: what to do about it (null when nothing needs doing). */
  fix: z.string().nullable(),
});
export type SetupCheck = z.infer<typeof SetupCheckSchema>;

export const AgentModelSchema = z.strictObject({
  agent: z.string(),
  kind: z.string(),
  model: z.string().nullable(),
});

/** The setup probe's answer: where it ran and what it found. */
export const SetupProbeResultSchema = z.strictObject({
  host: z.string(),
  checks: z.array(SetupCheckSchema),
  models: z.array(AgentModelSchema),
});
export type SetupProbeResult = z.infer<typeof SetupProbeResultSchema>;

export const DoctorReportSchema = z.strictObject({
  ok: z.boolean(),
  address: z.string(),
  namespace: z.string(),
  taskQueue: z.string(),
  spec: z.string().nullable(),
  /** `worker`: the agent checks ran on a worker of the task queue (on `host`); `here`: on this machine. */
  checkedOn: z.enum(['worker', 'here']).nullable(),
  host: z.string().nullable(),
  checks: z.array(SetupCheckSchema),
  models: z.array(AgentModelSchema),
});
export type DoctorReport = z.infer<typeof DoctorReportSchema>;
