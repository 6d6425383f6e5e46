import { z } from 'zod';

/** One benchmark's figures as stored in bench/results/<name>.json and rendered into BENCH.md. */

export const MachineSchema = z.strictObject({
  cpuModel: z.string(),
  cores: z.int(),
  ramGb: z.number(),
  os: z.string(),
  node: z.string(),
  temporalCli: z.string(),
  temporalSdk: z.string(),
  /** 1-minute load average when the benchmark started: other work on the machine skews figures. */
  loadAvgAtStart: z.number(),
  /**
   * Share of the machine's CPU time the hypervisor gave to other guests while the benchmark ran
   * (/proc/stat's steal), in %: on a shared virtual machine it slows everything at once.
   */
  stealPct: z.number().optional(),
});
export type Machine = z.infer<typeof MachineSchema>;

export const FigureSchema = z.strictObject({
  key: z.string(),
  label: z.string(),
  unit: z.string(),
  /** Samples behind the figure (1 for a single measurement). */
  n: z.int(),
  min: z.number(),
  median: z.number(),
  max: z.number(),
  p99: z.number().optional(),
});
export type Figure = z.infer<typeof FigureSchema>;

export const TargetSchema = z.strictObject({
  label: z.string(),
  target: z.string(),
  measured: z.string(),
  met: z.boolean(),
});
export type Target = z.infer<typeof TargetSchema>;

export const BenchResultSchema = z.strictObject({
  name: z.string(),
  title: z.string(),
  quick: z.boolean(),
  date: z.string(),
  durationS: z.number(),
  machine: MachineSchema,
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  figures: z.array(FigureSchema),
  targets: z.array(TargetSchema),
  notes: z.array(z.string()),
});
export type BenchResult = z.infer<typeof BenchResultSchema>;

/** What a benchmark returns; run.ts adds name, date, machine and duration. */
export type BenchOutcome = Pick<BenchResult, 'params' | 'figures' | 'targets' | 'notes'>;
