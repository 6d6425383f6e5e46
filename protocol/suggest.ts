/** "Did you mean …?" for a name outside a closed set: the nearest allowed name, when it is near. */

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

// Case and word separators are how people misremember names (new-best for new_best, Codex for codex).
const normal = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '');

/** The allowed name closest to `input`, if a slip of about one edit in three letters away (or a clear prefix); else undefined. */
export function closestName(input: string, allowed: readonly string[]): string | undefined {
  const n = normal(input);
  if (n === '') return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const name of allowed) {
    const v = normal(name);
    const prefix = Math.min(v.length, n.length) >= 3 && (v.startsWith(n) || n.startsWith(v));
    const distance = v === n ? 0 : prefix ? 1 : editDistance(n, v);
    if (distance <= Math.max(1, Math.floor(v.length / 3)) && (!best || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}

/** `; did you mean x?` to end a message with, or '' when nothing is near. */
export function didYouMean(input: unknown, allowed: readonly string[]): string {
  const near = typeof input === 'string' ? closestName(input, allowed) : undefined;
  return near === undefined ? '' : `; did you mean ${near}?`;
}
