/** Durations as docs/protocol.md#durations writes them (`1h30m`), plus `ms` for tests and bare seconds for readers. */
const DURATION_RE = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Parses `1h30m`, `45s`, `500ms` or a number of seconds into milliseconds; undefined when invalid. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : undefined;
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const m = DURATION_RE.exec(text);
  if (!m || text === '') return undefined;
  const [, d = '0', h = '0', min = '0', s = '0', ms = '0'] = m;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + Number(ms);
}

/** Formats milliseconds the way contract.json and FRAME.md show them: `1h30m`, `45s`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/** A span for people (status cards, reports): whole seconds, `44s`, `12m5s`, `3h2m`; `<1s` below a second. */
export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return ms > 0 ? '<1s' : '0s';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}

const UNITS: readonly [RegExp, number][] = [
  [/^(?:ms|msecs?|millis(?:econds?)?)$/, 1],
  [/^(?:s|secs?|seconds?)$/, 1000],
  [/^(?:m|mins?|minutes?)$/, 60_000],
  [/^(?:h|hrs?|hours?)$/, 3_600_000],
  [/^(?:d|days?)$/, 86_400_000],
];

/** A near miss written the way people say it (`10 min`, `1.5h`, `2 hours 30 minutes`) in the accepted shape; else undefined. */
export function rewriteDuration(text: string): string | undefined {
  const spoken = text.toLowerCase().replace(/\band\b|,/g, ' ');
  const parts = [...spoken.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)];
  if (parts.length === 0 || spoken.replace(/(\d+(?:\.\d+)?)\s*([a-z]+)/g, '').trim() !== '') return undefined;
  let ms = 0;
  for (const [, n, unit] of parts) {
    const size = UNITS.find(([re]) => re.test(unit!))?.[1];
    if (size === undefined) return undefined;
    ms += Number(n) * size;
  }
  return ms > 0 ? formatDuration(ms) : undefined;
}

/** Why a spec duration is refused: the accepted shape, what was given, and a rewrite when one is near. */
export function durationProblem(input: unknown): string {
  const near = typeof input === 'string' ? rewriteDuration(input) : undefined;
  return `must be a duration such as 90s, 45m or 1h30m (units d h m s ms, no spaces) or a number of seconds (got ${JSON.stringify(input)})${near ? `; did you mean ${near}?` : ''}`;
}
