/** Protection and success criteria: `<metric> <op> <number>` (docs/protocol.md#criteria). */
export const CRITERION_OPS = ['>=', '>', '<=', '<', '==', '!='] as const;
export type CriterionOp = (typeof CRITERION_OPS)[number];

export interface Criterion {
  metric: string;
  op: CriterionOp;
  value: number;
  text: string;
}

const CRITERION_RE = /^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$/;

export function parseCriterion(text: string): Criterion | undefined {
  const m = CRITERION_RE.exec(text);
  if (!m) return undefined;
  return { metric: m[1]!, op: m[2] as CriterionOp, value: Number(m[3]), text: `${m[1]} ${m[2]} ${m[3]}` };
}

/** Whether a metric value satisfies the criterion; a missing value fails (docs/protocol.md#built-in-supervisor, rule 3). */
export function criterionHolds(c: Criterion, value: number | undefined): boolean {
  if (value === undefined || !Number.isFinite(value)) return false;
  switch (c.op) {
    case '>=':
      return value >= c.value;
    case '>':
      return value > c.value;
    case '<=':
      return value <= c.value;
    case '<':
      return value < c.value;
    case '==':
      return value === c.value;
    case '!=':
      return value !== c.value;
  }
}
