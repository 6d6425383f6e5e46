import type { FlagEvent } from '../lifecycle.js';
import { flagKey } from '../flag-name.js';
import { type LooseTimestamp, timestampMs } from '../timestamp.js';
import type { Interval, TrailItem } from './session-trail.js';

/**
 * §2.2 order of one session's trail: by `seq` when every item has one, else by time. A written time
 * is an interval (`10:06` is a whole minute), so items whose intervals overlap are ordered by their
 * §3.1 rank instead of by where the coarser one's interval starts.
 */

const endOf = (t: Interval) => t.startMs + t.spanMs;
const overlaps = (a: Interval, b: Interval) => a.startMs < endOf(b) && b.startMs < endOf(a);

const byLabel = (a: TrailItem, b: TrailItem) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);

/** `y` comes before `x`: its interval ends before `x`'s starts, or they overlap and `y` ranks first. */
function precedes(y: TrailItem, x: TrailItem): boolean {
  const [a, b] = [y.at!, x.at!];
  if (endOf(a) <= b.startMs) return true;
  if (!overlaps(a, b)) return false;
  return y.rank < x.rank || (y.rank === x.rank && byLabel(y, x) <= 0);
}

function intervalOf(stamp: LooseTimestamp | null, mtimeMs: number | null, zone: number): Interval | null {
  if (stamp) return { startMs: timestampMs(stamp, zone), spanMs: stamp.spanMs };
  return mtimeMs === null ? null : { startMs: mtimeMs, spanMs: 1 };
}

const isFlag = (i: TrailItem): i is TrailItem & { event: FlagEvent } => 'name' in i.event;
const CLOSES = new Set(['DONE', 'BLOCKED', 'ABSTAIN']);
const REVIEWER_TERMINALS = new Set(['DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT']);

/**
 * Gives every item its interval (`zone`: minutes east of UTC for zone-less times) and returns the
 * trail in order. A consumption row is never earlier than the flag it names, and an undated record
 * sits just before the supervisor's close, where the original writes it (§2.4).
 */
export function orderTrail(items: readonly TrailItem[], zone: number): TrailItem[] {
  for (const item of items) item.at = intervalOf(item.stamp, item.mtimeMs, zone);
  const flags = items.filter(isFlag);
  const close = flags
    .filter((f) => f.event.name.role === 'SUPERVISOR' && CLOSES.has(f.event.name.status) && f.at)
    .sort((a, b) => a.at!.startMs - b.at!.startMs)[0];
  const last = items.filter((i) => i.at).sort((a, b) => endOf(b.at!) - endOf(a.at!))[0];
  for (const item of items) {
    if (item.at === null) item.at = { ...((close ?? last)?.at ?? { startMs: 0, spanMs: 1 }) };
    if (item.consumes === undefined) continue;
    const named = flags.find(
      (f) =>
        f.event.name.role === 'REVIEWER' &&
        f.event.name.agent === item.consumes &&
        REVIEWER_TERMINALS.has(f.event.name.status),
    );
    if (named?.at && item.at.startMs < named.at.startMs) item.at = { ...named.at };
  }
  const sorted = sortItems(items);
  renumberTagged(sorted);
  return sorted;
}

function sortItems(items: readonly TrailItem[]): TrailItem[] {
  if (items.length > 0 && items.every((i) => i.seq !== null))
    return [...items].sort((a, b) => a.seq! - b.seq! || a.rank - b.rank || byLabel(a, b));
  // Finest times first; each coarser item goes right after the last item that must precede it.
  const pending = [...items].sort(
    (a, b) => a.at!.spanMs - b.at!.spanMs || a.at!.startMs - b.at!.startMs || a.rank - b.rank || byLabel(a, b),
  );
  const out: TrailItem[] = [];
  for (const x of pending) {
    let j = out.length - 1;
    while (j >= 0 && !precedes(out[j]!, x)) j--;
    out.splice(j + 1, 0, x);
  }
  return out;
}

/** Legacy occurrence tags (`_2`, `-a`) are numbered 1..n in trail order (§2.4). */
function renumberTagged(ordered: readonly TrailItem[]): void {
  const groups = new Map<string, (TrailItem & { event: FlagEvent })[]>();
  for (const f of ordered.filter(isFlag)) {
    const key = flagKey(f.event.name);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const group of groups.values()) {
    if (!group.some((f) => f.tag)) continue;
    group.forEach((item, i) => {
      item.event = { ...item.event, name: { ...item.event.name, occurrence: i + 1 } };
    });
  }
}
