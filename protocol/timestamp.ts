/**
 * Timestamps as people and agents write them in hand-run folders: `2026-11-20T10:06Z`,
 * `2026-11-20 10:06`, with or without seconds, `Z`, `+09:00` or no zone. Pure and independent of
 * the machine's time zone (`Date.parse` reads a zone-less time in local time, so a verdict would
 * change with `TZ`).
 */

export interface LooseTimestamp {
  /** The written date and time read as if in UTC, in ms. */
  wallMs: number;
  /** Minutes east of UTC; null when the text names no zone. */
  offsetMinutes: number | null;
  /** Length of the interval the text denotes: 60,000 for `10:06`, 1,000 for `10:06:30`, 1 with ms. */
  spanMs: number;
}

/** Zone names read unambiguously; others (`CST`, `IST` …) mean different places. */
const ZONE_NAMES: Readonly<Record<string, number>> = { Z: 0, UTC: 0, GMT: 0, KST: 540, JST: 540 };

const TIMESTAMP_RE = new RegExp(
  '^(\\d{4})[-/.](\\d{1,2})[-/.](\\d{1,2})' + // date
    '(?:(?:[T_]|\\s+)(\\d{1,2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d{1,9}))?)?)?' + // time
    '\\s*(?:([+-])(\\d{2}):?(\\d{2})?|([A-Za-z]{1,4}))?$', // zone
);

const DAY_MS = 86_400_000;

/** Reads one timestamp (backticks and surrounding space ignored); undefined for anything else. */
export function parseLooseTimestamp(text: string): LooseTimestamp | undefined {
  const m = TIMESTAMP_RE.exec(text.replace(/`/g, '').trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, zoneName] = m;
  const [year, month, day] = [Number(y), Number(mo), Number(d)];
  const [hour, minute, second] = [Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const wallDay = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 31 Nov over to 1 Dec: refuse dates that do not exist.
  if (new Date(wallDay).getUTCDate() !== day) return undefined;
  let offsetMinutes: number | null = null;
  if (sign) {
    const minutes = Number(oh) * 60 + Number(om ?? 0);
    if (Number(oh) > 14 || Number(om ?? 0) > 59) return undefined;
    offsetMinutes = sign === '-' ? -minutes : minutes;
  } else if (zoneName) {
    const known = ZONE_NAMES[zoneName.toUpperCase()];
    if (known === undefined) return undefined;
    offsetMinutes = known;
  }
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const spanMs = h === undefined ? DAY_MS : s === undefined ? 60_000 : frac ? 1 : 1000;
  return { wallMs: wallDay + ((hour * 60 + minute) * 60 + second) * 1000 + ms, offsetMinutes, spanMs };
}

/** Epoch ms of a timestamp; a zone-less one is read in `defaultOffsetMinutes`. */
export function timestampMs(t: LooseTimestamp, defaultOffsetMinutes: number): number {
  return t.wallMs - (t.offsetMinutes ?? defaultOffsetMinutes) * 60_000;
}

/**
 * The zone a folder's zoned timestamps mostly carry (ties: the one met first), else UTC: agents of
 * one loop share a clock, so a zone-less `10:06` is read as the others are written.
 */
export function dominantOffset(stamps: Iterable<LooseTimestamp>): number {
  const counts = new Map<number, number>();
  for (const s of stamps)
    if (s.offsetMinutes !== null) counts.set(s.offsetMinutes, (counts.get(s.offsetMinutes) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [offset, count] of counts) {
    if (count > bestCount) [best, bestCount] = [offset, count];
  }
  return best;
}
