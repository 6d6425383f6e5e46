import { traitByClass } from '../decision-traits.js';
import { escapeHtml } from '../render/html-escape.js';
import type { DecisionClass } from '../vocabulary.js';

/**
 * The report's trend chart as inline SVG: one point per session, the best-so-far step line, markers
 * coloured by decision class. Pure string building; scales and ticks are exported for tests.
 */

export interface NiceTicks {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/** Digits after the point that a tick step of 1, 2 or 5 × 10^k needs (`0.05` → 2). */
export function stepDecimals(step: number): number {
  return Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
}

/** A step of 1, 2 or 5 × 10^k giving about `count` intervals over `span` (d3's rule). */
export function tickStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const base = 10 ** Math.floor(Math.log10(raw));
  const error = raw / base;
  const factor = error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1;
  return Number((factor * base).toPrecision(12));
}

/** The domain widened to whole steps, and the ticks on it; a flat or empty range is opened up first. */
export function niceTicks(min: number, max: number, count = 6): NiceTicks {
  let lo = Math.min(min, max);
  let hi = Math.max(min, max);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo === 0) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = tickStep(hi - lo, count);
  const decimals = stepDecimals(step);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toFixed(decimals)) || 0);
  return { min: ticks[0]!, max: ticks.at(-1)!, step, ticks };
}

/** Maps `domain` onto `range` linearly; a zero-width domain maps to the range's middle. */
export function linearScale(
  domain: readonly [number, number],
  range: readonly [number, number],
): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** Session numbers to label: every one up to `maxTicks`, else whole multiples of a nice step. */
export function sessionTicks(first: number, last: number, maxTicks = 16): number[] {
  if (last < first) return [];
  const step = last - first + 1 <= maxTicks ? 1 : Math.max(1, Math.ceil(tickStep(last - first, maxTicks - 1)));
  const ticks: number[] = [];
  for (let s = Math.ceil(first / step) * step; s <= last; s += step) ticks.push(s);
  return ticks;
}

/** A step line (hold, then jump) through the points, in order: `M x0 y0 H x1 V y1 …`. */
export function stepPath(points: readonly { x: number; y: number }[]): string {
  if (!points.length) return '';
  const r = (n: number) => String(Number(n.toFixed(2)));
  const [head, ...rest] = points;
  let d = `M${r(head!.x)} ${r(head!.y)}`;
  let y = head!.y;
  for (const p of rest) {
    d += ` H${r(p.x)}`;
    if (p.y !== y) d += ` V${r(p.y)}`;
    y = p.y;
  }
  return d;
}

/** Six significant digits, without trailing zeros: labels, not data. */
export const formatValue = (v: number): string => String(Number(v.toPrecision(6)));

export type Direction = 'maximize' | 'minimize';

export interface ChartPoint {
  session: number;
  /** The session's metric; null when none was recorded (drawn hollow on the x axis). */
  value: number | null;
  /** The best value after this session (the leaderboard's `best_value`); null before any. */
  best: number | null;
  /** Decision class, `baseline` for session 000; unknown classes get the neutral style. */
  decision: string | null;
}

export interface ChartOptions {
  metric: string;
  /** null for a metric the loop does not optimize (a secondary one): no "better" direction is claimed. */
  direction: Direction | null;
  /** The session holding the best value, ringed and labelled. */
  bestSession?: number | null;
  width?: number;
  height?: number;
  /** Prefix of the title and description ids, for two charts on one page. @default chart */
  idPrefix?: string;
}

/** Marker colours by decision class (Okabe–Ito, colour-blind safe), shared with the legend. */
export const DECISION_STYLES: Readonly<Record<DecisionClass | 'baseline', { color: string; label: string }>> = {
  baseline: { color: '#6b7280', label: 'baseline' },
  ...traitByClass('chart'),
};
export const UNKNOWN_STYLE = { color: '#9ca3af', label: 'not recorded' };

export const decisionStyle = (decision: string | null): { color: string; label: string } =>
  decision !== null && Object.hasOwn(DECISION_STYLES, decision)
    ? DECISION_STYLES[decision as keyof typeof DECISION_STYLES]
    : UNKNOWN_STYLE;

/** CSS class suffix for a decision: a known class name, else `other`. */
export const decisionClassName = (decision: string | null): string =>
  decision !== null && Object.hasOwn(DECISION_STYLES, decision) ? decision.replace(/_/g, '-') : 'other';

/** The decision classes present, in DECISION_STYLES order (then `not recorded`), for the legend. */
export function legendEntries(points: readonly ChartPoint[]): { key: string; color: string; label: string }[] {
  const present = new Set(
    points.map((p) => (p.decision !== null && Object.hasOwn(DECISION_STYLES, p.decision) ? p.decision : '')),
  );
  const entries = Object.entries(DECISION_STYLES)
    .filter(([k]) => present.has(k))
    .map(([key, s]) => ({ key, ...s }));
  if (present.has('')) entries.push({ key: 'other', ...UNKNOWN_STYLE });
  return entries;
}

const label3 = (n: number) => String(n).padStart(3, '0');

/** The chart as an `<svg>` element (no scripts, no external references). */
export function renderTrendChart(points: readonly ChartPoint[], options: ChartOptions): string {
  const width = options.width ?? 960;
  const height = options.height ?? 360;
  const m = { top: 34, right: 28, bottom: 50, left: 70 };
  const plot = { left: m.left, right: width - m.right, top: m.top, bottom: height - m.bottom };
  const sorted = [...points].sort((a, b) => a.session - b.session);
  const numbers = sorted.flatMap((p) => [p.value, p.best]).filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = numbers.length ? Math.min(...numbers) : 0;
  const hi = numbers.length ? Math.max(...numbers) : 1;
  // A little headroom, so the extreme points and the best label do not sit on the frame.
  const y = niceTicks(lo - (hi - lo) * 0.04, hi + (hi - lo) * 0.04, 6);
  const first = sorted[0]?.session ?? 0;
  const last = sorted.at(-1)?.session ?? 1;
  const sx = linearScale([first - 0.5, last + 0.5], [plot.left, plot.right]);
  const sy = linearScale([y.min, y.max], [plot.bottom, plot.top]);
  const f = (n: number) => String(Number(n.toFixed(2)));
  const decimals = stepDecimals(y.step);
  const metric = escapeHtml(options.metric);
  const id = escapeHtml(options.idPrefix ?? 'chart');
  const better =
    options.direction === null ? null : options.direction === 'minimize' ? '↓ lower is better' : '↑ higher is better';
  const parts: string[] = [];

  parts.push(
    `<svg class="trend-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif" data-direction="${options.direction ?? 'none'}" data-metric="${metric}" data-points="${sorted.length}">`,
    `<title id="${id}-title">${metric} per session</title>`,
    `<desc id="${id}-desc">${sorted.length} sessions${better ? `; the step line is the best ${metric} so far (${better.slice(2)})` : ''}.</desc>`,
    `<rect class="plot-area" x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="#fbfcfe" stroke="none"/>`,
  );
  // Horizontal grid and y labels.
  parts.push('<g class="y-axis" font-size="11" fill="#4b5563" text-anchor="end">');
  for (const t of y.ticks) {
    const ty = f(sy(t));
    parts.push(
      `<line class="grid" x1="${plot.left}" x2="${plot.right}" y1="${ty}" y2="${ty}" stroke="#e5e7eb" stroke-width="1"/>`,
    );
    parts.push(
      `<text class="tick" x="${plot.left - 8}" y="${ty}" dy="0.32em" data-value="${t}">${t.toFixed(decimals)}</text>`,
    );
  }
  parts.push('</g>');
  // X axis with session labels.
  parts.push(`<g class="x-axis" font-size="11" fill="#4b5563" text-anchor="middle">`);
  parts.push(
    `<line x1="${plot.left}" x2="${plot.right}" y1="${plot.bottom}" y2="${plot.bottom}" stroke="#9ca3af" stroke-width="1"/>`,
  );
  // About one label per 44 px of plot, at most 16: a narrow chart labels fewer sessions.
  for (const s of sessionTicks(first, last, Math.min(16, Math.max(4, Math.floor((plot.right - plot.left) / 44))))) {
    const tx = f(sx(s));
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${plot.bottom}" y2="${plot.bottom + 4}" stroke="#9ca3af"/>`);
    parts.push(`<text class="tick" x="${tx}" y="${plot.bottom + 17}" data-session="${s}">${label3(s)}</text>`);
  }
  parts.push('</g>');
  parts.push(
    `<text class="axis-title" x="${f((plot.left + plot.right) / 2)}" y="${height - 10}" font-size="12" fill="#374151" text-anchor="middle">session (000 = baseline)</text>`,
    `<text class="axis-title" transform="translate(16 ${f((plot.top + plot.bottom) / 2)}) rotate(-90)" font-size="12" fill="#374151" text-anchor="middle">${metric}</text>`,
    `<text class="direction" x="${plot.left}" y="${m.top - 12}" font-size="12" fill="#374151">${metric}: ${better ?? 'secondary metric (not optimized)'}</text>`,
  );

  const baseline = sorted.find((p) => p.session === 0 && p.value !== null);
  if (baseline) {
    const by = f(sy(baseline.value!));
    parts.push(
      `<line class="baseline-line" x1="${plot.left}" x2="${plot.right}" y1="${by}" y2="${by}" stroke="#9ca3af" stroke-width="1" stroke-dasharray="4 4"/>`,
      `<text class="baseline-label" x="${plot.right - 4}" y="${by}" dy="-0.45em" font-size="11" fill="#6b7280" text-anchor="end">baseline ${escapeHtml(formatValue(baseline.value!))}</text>`,
    );
  }

  // A faint line through the session values, broken where a value is missing.
  const runs: { x: number; y: number }[][] = [[]];
  for (const p of sorted) {
    if (p.value === null) runs.push([]);
    else runs.at(-1)!.push({ x: sx(p.session), y: sy(p.value) });
  }
  for (const run of runs.filter((r) => r.length > 1)) {
    parts.push(
      `<path class="value-line" d="${run.map((p, i) => `${i ? 'L' : 'M'}${f(p.x)} ${f(p.y)}`).join(' ')}" fill="none" stroke="#94a3b8" stroke-width="1.25"/>`,
    );
  }

  const bestPoints = sorted.filter((p) => p.best !== null);
  if (bestPoints.length) {
    const d = stepPath(bestPoints.map((p) => ({ x: sx(p.session), y: sy(p.best!) })));
    const lastBest = bestPoints.at(-1)!.best!;
    parts.push(
      `<path class="best-line" data-last-value="${lastBest}" d="${d}" fill="none" stroke="#047857" stroke-width="2.25" stroke-linejoin="round" opacity="0.85"/>`,
    );
  }

  const bestPoint =
    options.bestSession === undefined || options.bestSession === null
      ? undefined
      : sorted.find((p) => p.session === options.bestSession && p.value !== null);
  if (bestPoint) {
    const bx = sx(bestPoint.session);
    const by = sy(bestPoint.value!);
    const anchor = bx > plot.right - 60 ? 'end' : bx < plot.left + 60 ? 'start' : 'middle';
    const ly = by - 14 < plot.top + 10 ? by + 24 : by - 14;
    parts.push(
      `<circle class="best-marker" cx="${f(bx)}" cy="${f(by)}" r="10" fill="none" stroke="#047857" stroke-width="2"/>`,
      `<text class="best-label" x="${f(bx)}" y="${f(ly)}" font-size="12" font-weight="600" fill="#047857" text-anchor="${anchor}">best ${escapeHtml(formatValue(bestPoint.value!))} (session ${label3(bestPoint.session)})</text>`,
    );
  }

  parts.push('<g class="points">');
  for (const p of sorted) {
    const style = decisionStyle(p.decision);
    const cx = f(sx(p.session));
    const decision = escapeHtml(p.decision ?? 'not recorded');
    const title = `session ${label3(p.session)} · ${decision} · ${metric} ${p.value === null ? 'not recorded' : escapeHtml(String(p.value))}`;
    const common = `data-session="${p.session}" data-decision="${decision}"`;
    if (p.value === null) {
      parts.push(
        `<circle class="point point-missing" ${common} data-value="" cx="${cx}" cy="${plot.bottom}" r="5" fill="#ffffff" stroke="${style.color}" stroke-width="1.5" stroke-dasharray="2 2"><title>${title}</title></circle>`,
      );
    } else {
      const hollow = p.decision === 'baseline';
      parts.push(
        `<circle class="point point-${decisionClassName(p.decision)}" ${common} data-value="${p.value}" cx="${cx}" cy="${f(sy(p.value))}" r="${p.decision === 'promote' ? 6 : 5}" fill="${hollow ? '#ffffff' : style.color}" stroke="${hollow ? style.color : '#ffffff'}" stroke-width="${hollow ? 2 : 1.25}"><title>${title}</title></circle>`,
      );
    }
  }
  parts.push('</g>');
  if (!numbers.length) {
    parts.push(
      `<text class="empty" x="${f((plot.left + plot.right) / 2)}" y="${f((plot.top + plot.bottom) / 2)}" font-size="13" fill="#6b7280" text-anchor="middle">no ${metric} values recorded</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** The legend of a trend chart: the decision classes present, the best line, missing values. */
export function renderTrendLegend(points: readonly ChartPoint[]): string {
  const legend = legendEntries(points).map(
    (e) =>
      `<li><svg width="12" height="12" aria-hidden="true"><circle class="swatch swatch-${decisionClassName(e.key === 'other' ? null : e.key)}" cx="6" cy="6" r="5" fill="${e.key === 'baseline' ? '#ffffff' : e.color}" stroke="${e.color}" stroke-width="1.5"/></svg>${escapeHtml(e.label)}</li>`,
  );
  if (points.some((p) => p.best !== null))
    legend.push(
      '<li><svg width="22" height="12" aria-hidden="true"><path d="M1 9 H11 V3 H21" fill="none" stroke="#047857" stroke-width="2.25"/></svg>best so far</li>',
    );
  if (points.some((p) => p.value === null))
    legend.push(
      '<li><svg width="12" height="12" aria-hidden="true"><circle cx="6" cy="6" r="4.5" fill="#fff" stroke="#9ca3af" stroke-dasharray="2 2"/></svg>no value recorded</li>',
    );
  return `<ul class="legend">${legend.join('')}</ul>`;
}

/**
 * The chart with its legend, as the report shows it. The dashboard uses the same two renderers
 * (and makes the chart interactive through the points' data attributes).
 */
export function renderTrendFigure(points: readonly ChartPoint[], options: ChartOptions): string {
  return `<figure class="chart">${renderTrendChart(points, options)}
<figcaption>${renderTrendLegend(points)}</figcaption></figure>`;
}
