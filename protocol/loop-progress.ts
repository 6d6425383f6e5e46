import { DECISION_TRAITS } from './decision-traits.js';
import { beats, type Direction } from './supervisor-rules.js';
import type { AxisState, Best, Metrics } from './schemas/state.js';
import type { DecisionClass } from './vocabulary.js';

/** Best and axis bookkeeping after a decision takes effect (docs/protocol.md#decisions). */

export const DEFAULT_AXIS = 'default';

export interface LoopProgress {
  best: Best | null;
  axes: AxisState[];
}

export interface AppliedDecision {
  /** The class that takes effect (after any approval). */
  class: DecisionClass;
  session: number;
  /** From the report's `axis:` header; null or empty means `default`. */
  axis: string | null;
  value: number | null;
  metrics: Metrics;
  /** Code variant folder of this session's candidate. */
  variant: string;
  /** The best becomes this session (a promotion, or a promotion that asked about success). */
  promotes: boolean;
  /** A denied gate: keep, and the plateau starts over. */
  resetPlateau?: boolean;
  direction: Direction;
}

/** New best and axes; inputs are not mutated. */
export function applyDecision(progress: LoopProgress, d: AppliedDecision): LoopProgress {
  const name = d.axis?.trim() || DEFAULT_AXIS;
  const axes = progress.axes.map((a) => ({ ...a }));
  let axis = axes.find((a) => a.name === name);
  if (!axis) {
    axis = { name, plateau: 0, retired: false, retiredAtSession: null, sessions: 0, bestValue: null };
    axes.push(axis);
  }
  axis.sessions += 1;
  if (d.value !== null && (axis.bestValue === null || beats(d.direction, 0, d.value, axis.bestValue)))
    axis.bestValue = d.value;
  const traits = DECISION_TRAITS[d.class];
  if (d.promotes || d.resetPlateau) axis.plateau = 0;
  else if (traits.advancesPlateau) axis.plateau += 1;
  if (traits.retiresAxis) {
    // Axis default is never retired; pivoting only resets it.
    if (name === DEFAULT_AXIS) axis.plateau = 0;
    else {
      axis.retired = true;
      axis.retiredAtSession = d.session;
    }
  }
  const best =
    d.promotes && d.value !== null
      ? { session: d.session, value: d.value, metrics: { ...d.metrics }, axis: name, variant: d.variant }
      : progress.best;
  return { best, axes };
}
