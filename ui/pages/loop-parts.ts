import { formatDuration, formatElapsed } from '../../protocol/duration.js';
import { parseDecisionBlock } from '../../protocol/decision.js';
import { sessionFilePath } from '../../protocol/layout.js';
import type { ReportData, ReportFiles } from '../../protocol/report/model.js';
import { asRecord, parseJson, metricsPath } from '../../protocol/report/sources.js';
import {
  type ChartOptions,
  type ChartPoint,
  renderTrendChart,
  renderTrendLegend,
} from '../../protocol/report/trend-chart.js';
import type { LoopStatus } from '../../protocol/schemas/messages.js';
import type { FlagRow } from '../loop-files.js';
import { decisionBadge, elapsedSince, esc, label3, muted, num, sessionHref, timeAgo } from './page.js';

/** The parts of a loop's page that are not about steering it: chart, gauges, leaderboard, flags. */

/** Numeric metrics of each session's metrics.json (`metrics` object): the secondary metrics to chart. */
export function metricSeries(files: ReportFiles, sessions: readonly number[]): Map<string, Map<number, number>> {
  const series = new Map<string, Map<number, number>>();
  for (const session of sessions) {
    const text = files[metricsPath(session)];
    const metrics = asRecord(asRecord(parseJson(typeof text === 'string' ? text : undefined)).metrics);
    for (const [name, value] of Object.entries(metrics)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const s = series.get(name) ?? new Map<number, number>();
      s.set(session, value);
      series.set(name, s);
    }
  }
  return series;
}

/** The trend chart of the loop's metric, or of a secondary one (no best line, no direction claimed). */
export function chartSection(data: ReportData, files: ReportFiles, selected: string | null): string {
  const metric = data.metric ?? 'metric';
  const series = metricSeries(
    files,
    data.sessions.map((s) => s.session),
  );
  const others = [...series.keys()].filter((m) => m !== metric).sort();
  const secondary = selected !== null && selected !== metric && series.has(selected) ? selected : null;
  const points: ChartPoint[] = secondary
    ? data.sessions.map((s) => ({
        session: s.session,
        value: series.get(secondary)!.get(s.session) ?? null,
        best: null,
        decision: s.decision,
      }))
    : data.sessions.map((s) => ({ session: s.session, value: s.value, best: s.bestValue, decision: s.decision }));
  const options: ChartOptions = secondary
    ? { metric: secondary, direction: null }
    : { metric, direction: data.direction, bestSession: data.best?.session ?? null };
  // Two drawings of one chart, CSS showing one: at phone width the wide one's labels would be 4 px high.
  const figure = `<figure class="chart"><div class="chart-wide">${renderTrendChart(points, { ...options, idPrefix: 'chart-wide' })}</div>
<div class="chart-narrow">${renderTrendChart(points, { ...options, width: 380, height: 300, idPrefix: 'chart-narrow' })}</div>
<figcaption>${renderTrendLegend(points)}</figcaption></figure>`;
  const picker = others.length
    ? `<form class="inline-form" method="get"><label for="metric">Metric</label> <select id="metric" name="metric" data-autosubmit>${[metric, ...others].map((m) => `<option value="${esc(m)}"${m === (secondary ?? metric) ? ' selected' : ''}>${esc(m)}${m === metric ? ' (loop metric)' : ''}</option>`).join('')}</select> <button type="submit">Show</button></form>`
    : '';
  return `<div class="title-row"><h2>Trend</h2>${picker}</div>
${data.sessions.length ? figure : `<p class="empty">no session has closed yet</p>`}
<p class="note" id="chart-tip" aria-live="polite">Point at a session for its decision and value.</p>`;
}

function gauge(
  label: string,
  used: number,
  limit: number | null,
  show: (n: number) => string,
  usedHtml?: string,
): string {
  const bar = limit
    ? `<progress max="${limit}" value="${Math.min(used, limit)}" aria-label="${esc(label)} used"></progress>`
    : '';
  const pct = limit ? ` <span class="muted">(${Math.round((100 * used) / limit)}%)</span>` : '';
  return `<div class="gauge"><div class="gauge-k">${esc(label)}</div><div class="gauge-v">${usedHtml ?? esc(show(used))} <span class="muted">${limit ? `of ${esc(show(limit))}` : 'no limit'}</span>${pct}</div>${bar}</div>`;
}

/**
 * Sessions, wall clock, tokens and cost against their limits (the status query's figures). The
 * wall clock of a running loop ticks in the page; its bar moves in whole steps of `elapsedMs`.
 */
export function budgetSection(status: LoopStatus, elapsedMs: number, running: boolean): string {
  const { used, budget } = status;
  const clock = (ms: number) => (ms === budget.wallClockMs ? formatDuration(ms) : formatElapsed(ms));
  return `<h2>Budget</h2><div class="gauges">
${gauge('sessions', used.sessions, budget.sessions, String)}
${gauge('wall clock', elapsedMs, budget.wallClockMs, clock, running ? elapsedSince(status.startedAt) : undefined)}
${gauge('tokens', used.tokens, budget.tokens, (n) => n.toLocaleString('en-US'))}
${gauge('cost', used.costUsd, budget.costUsd, (n) => `$${n.toFixed(2)}`)}
</div>${status.warnings.length ? `<ul class="warnings">${status.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}`;
}

/** Every session, best marked; each row opens the session's drill-down. */
export function leaderboardSection(workflowId: string, data: ReportData): string {
  if (!data.sessions.length) return `<h2>Leaderboard</h2><p class="empty">no sessions recorded yet</p>`;
  const rows = data.sessions.map((s) => {
    const isBest = data.best?.session === s.session;
    const reviews = s.reviews.length
      ? s.reviews
          .map(
            (r) =>
              `<span class="review">${esc(r.agent)} <span class="verdict verdict-${/^[a-z_]+$/.test(r.verdict) ? r.verdict : 'other'}">${esc(r.verdict)}</span></span>`,
          )
          .join(' ')
      : muted('—');
    return `<tr${isBest ? ' class="is-best"' : ''}>
<td class="num"><a href="${sessionHref(workflowId, s.session)}">${label3(s.session)}</a>${isBest ? ' <span class="star" title="best">★</span>' : ''}</td>
<td>${decisionBadge(s.decision)}</td>
<td class="num">${num(s.value)}</td>
<td class="num">${num(s.bestValue)}${s.bestSession !== null ? ` <span class="muted">(${label3(s.bestSession)})</span>` : ''}</td>
<td>${s.axis ? esc(s.axis) : muted('—')}</td>
<td>${s.protection ? `<span class="prot prot-${s.protection}">${s.protection}</span>` : muted('—')}</td>
<td>${reviews}</td>
</tr>`;
  });
  return `<h2>Leaderboard</h2><div class="scroll"><table class="board">
<thead><tr><th class="num">session</th><th>decision</th><th class="num">${esc(data.metric ?? 'value')}</th><th class="num">best so far</th><th>axis</th><th>protection</th><th>reviews</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}

/** A session's flags in order, with their times and reasons. */
export function flagsTable(flags: readonly FlagRow[]): string {
  if (!flags.length) return `<p class="empty">no flags yet</p>`;
  return `<div class="scroll"><table class="flags"><thead><tr><th class="num">seq</th><th>time</th><th>agent</th><th>role</th><th>status</th><th>detail</th></tr></thead><tbody>${flags
    .map(
      (f) => `<tr>
<td class="num">${f.seq ?? muted('—')}</td><td>${timeAgo(f.timestamp)}</td><td>${esc(f.agent ?? '?')}</td><td>${esc(f.role ?? '?')}</td>
<td><span class="flag flag-${esc((f.status ?? 'other').toLowerCase())}">${esc(f.status ?? f.name)}</span></td><td>${f.detail ? esc(f.detail) : ''}</td></tr>`,
    )
    .join('')}</tbody></table></div>`;
}

const TERMINAL = new Set(['DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT']);

/** The agent at work: the latest RUNNING flag whose agent and role have no terminal flag after it. */
export function runningAgent(flags: readonly FlagRow[]): FlagRow | null {
  const open = new Map<string, FlagRow>();
  for (const f of flags) {
    if (!f.agent || !f.role) continue;
    const key = `${f.agent}|${f.role}`;
    if (f.status === 'RUNNING') open.set(key, f);
    else if (f.status && TERMINAL.has(f.status)) open.delete(key);
  }
  return [...open.values()].at(-1) ?? null;
}

export interface Question {
  text: string;
  approve: string;
  deny: string;
}

/** What a pending decision asks: its reason, and what each answer applies (from the session's decision.md). */
export function pendingQuestion(files: ReportFiles | null, session: number): Question | null {
  const text = files?.[sessionFilePath(session, 'decision')];
  if (typeof text !== 'string') return null;
  const block = parseDecisionBlock(text, { mode: 'original', session }).block;
  if (!block) return null;
  return {
    text: block.reason ?? `session ${label3(session)} decided ${block.class}`,
    approve: block.on_approve ?? block.class,
    deny: block.on_deny ?? 'keep',
  };
}
