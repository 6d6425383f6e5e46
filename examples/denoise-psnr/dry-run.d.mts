/** Types of dry-run.mjs for TypeScript tests. */
export declare const FRAME: {
  evidenceCommand: string;
  metric: string;
  minDelta: number;
  plateau: number;
  protect: string[];
  workspace: string[];
  protected: string[];
  executor: { name: string; command: string };
  reviewer: { name: string; command: string };
};
export interface DryRunRow {
  session: number;
  axis: string;
  train: string;
  value: number;
  delta: number;
  review: { verdict: string; recommendation: string };
  decision: { cls: string; reason: string; wouldBe: string };
  best: number;
}
export declare function dryRun(
  root: string,
  sessions: number,
  log?: (line: string) => void,
): {
  root: string;
  baseline: { value: number; metrics: Record<string, number> };
  best: { session: number; value: number };
  rows: DryRunRow[];
  noisy: number;
};
