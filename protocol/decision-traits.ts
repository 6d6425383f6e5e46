import { DECISION_CLASSES, type DecisionClass } from './vocabulary.js';

/**
 * What each decision class means to the engine, in one table typed by the class union: a new
 * class does not compile until every trait below is given. Rules, bookkeeping, summaries, the
 * report chart and the message validators read their class knowledge from here.
 */

/** ROLLING_SUMMARY.md's buckets, in the order of its `## Promoted/Kept/Retired/Stopped` section. */
export const SUMMARY_BUCKETS = ['promoted', 'kept', 'retired', 'stopped'] as const;
export type SummaryBucket = (typeof SUMMARY_BUCKETS)[number];

export interface DecisionTraits {
  /** What it does before the next session (decision.md `## Next Action`). */
  effect: string;
  /** It makes the session's candidate the best (and so resets its axis plateau). */
  makesBest: boolean;
  /** The next session opens on the best variant (the baseline before any): the workspace is restored. */
  restoresBest: boolean;
  /** Taking effect without a promotion, it counts one more session on its axis plateau. */
  advancesPlateau: boolean;
  /** It retires the session's axis (axis `default` is never retired: its plateau resets). */
  retiresAxis: boolean;
  /** It ends the loop. */
  endsLoop: boolean;
  /** The loop sends the `plateau` notification: the direction it tried is given up. */
  announcesPlateau: boolean;
  /** Its ROLLING_SUMMARY.md bucket; `retired` sessions are FINAL_SUMMARY.md's rejected candidates. */
  bucket: SummaryBucket | null;
  /** Marker colour (Okabe–Ito, colour-blind safe) and legend label in the report chart. */
  chart: { color: string; label: string };
  /** A human's approve may name it (an approve applies a decision; ask_user would only ask again). */
  approvable: boolean;
  /**
   * What an agent supervisor's choice of it becomes: taken as is; held to the evidence (no value,
   * failed protection or a changed protected file make it needs_more_evidence); or asked of a human.
   */
  agentChoice: 'taken' | 'needs_evidence' | 'asks_user';
}

export const DECISION_TRAITS: Readonly<Record<DecisionClass, DecisionTraits>> = {
  promote: {
    effect: 'best := this session; workspace kept; axis plateau reset',
    makesBest: true,
    restoresBest: false,
    advancesPlateau: false,
    retiresAxis: false,
    endsLoop: false,
    announcesPlateau: false,
    bucket: 'promoted',
    chart: { color: '#009e73', label: 'promote' },
    approvable: true,
    agentChoice: 'needs_evidence',
  },
  keep: {
    effect: 'workspace kept',
    makesBest: false,
    restoresBest: false,
    advancesPlateau: true,
    retiresAxis: false,
    endsLoop: false,
    announcesPlateau: false,
    bucket: 'kept',
    chart: { color: '#0072b2', label: 'keep' },
    approvable: true,
    agentChoice: 'taken',
  },
  retire: {
    effect: 'candidate harmful; workspace restored to the best',
    makesBest: false,
    restoresBest: true,
    advancesPlateau: true,
    retiresAxis: false,
    endsLoop: false,
    announcesPlateau: true,
    bucket: 'retired',
    chart: { color: '#d55e00', label: 'retire' },
    approvable: true,
    agentChoice: 'taken',
  },
  return_to_best: {
    effect: 'candidate not better; workspace restored to the best',
    makesBest: false,
    restoresBest: true,
    advancesPlateau: true,
    retiresAxis: false,
    endsLoop: false,
    announcesPlateau: false,
    bucket: 'retired',
    chart: { color: '#e69f00', label: 'return to best' },
    approvable: true,
    agentChoice: 'taken',
  },
  pivot_axis: {
    effect: 'axis retired; workspace restored to the best; the executor picks a new axis',
    makesBest: false,
    restoresBest: true,
    advancesPlateau: true,
    retiresAxis: true,
    endsLoop: false,
    announcesPlateau: true,
    bucket: 'retired',
    chart: { color: '#cc79a7', label: 'pivot axis' },
    approvable: true,
    agentChoice: 'taken',
  },
  needs_more_evidence: {
    effect: 'workspace kept; gather evidence',
    makesBest: false,
    restoresBest: false,
    advancesPlateau: true,
    retiresAxis: false,
    endsLoop: false,
    announcesPlateau: false,
    bucket: 'kept',
    chart: { color: '#56b4e9', label: 'needs more evidence' },
    approvable: true,
    agentChoice: 'taken',
  },
  needs_code_variant: {
    effect: 'workspace kept; the next prompt asks for an isolated code variant',
    makesBest: false,
    restoresBest: false,
    advancesPlateau: true,
    retiresAxis: false,
    endsLoop: false,
    announcesPlateau: false,
    bucket: 'kept',
    chart: { color: '#a68a00', label: 'needs code variant' },
    approvable: true,
    agentChoice: 'taken',
  },
  stop: {
    effect: 'the loop ends',
    makesBest: false,
    restoresBest: false,
    advancesPlateau: false,
    retiresAxis: false,
    endsLoop: true,
    announcesPlateau: false,
    bucket: 'stopped',
    chart: { color: '#111827', label: 'stop' },
    approvable: true,
    agentChoice: 'asks_user',
  },
  ask_user: {
    effect: 'nothing happens until a human approves or denies',
    makesBest: false,
    restoresBest: false,
    advancesPlateau: false,
    retiresAxis: false,
    endsLoop: false,
    announcesPlateau: false,
    bucket: null,
    chart: { color: '#6d28d9', label: 'ask user' },
    approvable: false,
    agentChoice: 'taken',
  },
};

/** The classes that have a trait, in DECISION_CLASSES order. */
export function classesWhere(has: (traits: DecisionTraits) => boolean): DecisionClass[] {
  return DECISION_CLASSES.filter((c) => has(DECISION_TRAITS[c]));
}

/** One trait of every class, keyed by class, in DECISION_CLASSES order. */
export function traitByClass<K extends keyof DecisionTraits>(key: K): Record<DecisionClass, DecisionTraits[K]> {
  return Object.fromEntries(DECISION_CLASSES.map((c) => [c, DECISION_TRAITS[c][key]])) as Record<
    DecisionClass,
    DecisionTraits[K]
  >;
}
