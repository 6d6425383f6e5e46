import { formatElapsed } from '../../protocol/duration.js';
import { LOOP_PHASES } from '../../protocol/schemas/messages.js';
import type { LoopSummary } from '../temporal-source.js';
import { esc, label3, live, loopHref, muted, num, type PageHandler, phaseBadge, timeAgo } from './page.js';

/** The loops page: every loop of the namespace, running ones first, filtered by phase, live. */

const LIST_LIMIT = 200;

/** `running` and `ended` by run status; any other value is a loop phase. */
const FILTERS = ['running', 'ended', ...LOOP_PHASES] as const;

export function matchesFilter(row: LoopSummary, filter: string): boolean {
  if (filter === '' || filter === 'all') return true;
  if (filter === 'running') return row.runStatus === 'RUNNING';
  if (filter === 'ended') return row.runStatus !== 'RUNNING';
  return row.phase === filter;
}

/** Running loops first, then the most recently changed. */
export const byRunningThenRecent = (a: LoopSummary, b: LoopSummary): number =>
  Number(b.runStatus === 'RUNNING') - Number(a.runStatus === 'RUNNING') || b.lastChange.localeCompare(a.lastChange);

function budgetCell(row: LoopSummary): string {
  const parts: string[] = [];
  if (row.used) {
    parts.push(`${row.used.sessions}/${row.budget?.sessions ?? row.sessions ?? '?'} sessions`);
    parts.push(formatElapsed(row.used.wallClockMs));
    if (row.used.tokens || row.budget?.tokens) parts.push(`${row.used.tokens.toLocaleString('en-US')} tokens`);
    if (row.used.costUsd || row.budget?.costUsd) parts.push(`$${row.used.costUsd.toFixed(2)}`);
  }
  return parts.length ? esc(parts.join(' · ')) : muted('—');
}

function loopRow(row: LoopSummary): string {
  const name = row.name ?? row.workflowId.replace(/^loop-/, '');
  const session = row.session === null ? muted('—') : `${row.session}/${row.sessions ?? '?'}`;
  const best = row.best
    ? `${num(row.best.value)}${row.best.session !== null ? ` <span class="muted">(session ${label3(row.best.session)})</span>` : ''}`
    : muted('none yet');
  const ended =
    row.runStatus === 'RUNNING' ? '' : ` ${row.stopReason ? `<span class="muted">${esc(row.stopReason)}</span>` : ''}`;
  return `<tr data-loop="${esc(row.workflowId)}">
<td class="name"><a href="${loopHref(row.workflowId)}">${esc(name)}</a><div class="sub">${esc(row.workflowId)}</div></td>
<td data-label="phase">${phaseBadge(row.phase, row.runStatus)}${ended}${row.pending ? `<div class="sub attention">${esc(row.pending)}</div>` : ''}</td>
<td class="num" data-label="session">${session}</td>
<td class="num" data-label="best">${row.metric ? `<span class="muted">${esc(row.metric)}</span> ` : ''}${best}</td>
<td data-label="budget used">${budgetCell(row)}</td>
<td data-label="last change">${timeAgo(row.lastChange)}</td>
</tr>`;
}

export const loopsPage: PageHandler = async (ctx, _params, query) => {
  const filter = query.get('phase') ?? '';
  const rows = (await ctx.source.list(LIST_LIMIT)).sort(byRunningThenRecent);
  const shown = rows.filter((r) => matchesFilter(r, filter));
  const running = rows.filter((r) => r.runStatus === 'RUNNING').length;
  const table = shown.length
    ? `<div class="scroll"><table class="loops stack">
<thead><tr><th>loop</th><th>phase</th><th class="num">session</th><th class="num">best</th><th>budget used</th><th>last change</th></tr></thead>
<tbody>${shown.map((r) => loopRow(r)).join('\n')}</tbody></table></div>`
    : `<p class="empty">${rows.length ? `no loop matches ${esc(filter)}` : `no loops in namespace ${esc(ctx.source.namespace)} yet: start one with <code>loop-station submit loop.yaml</code>`}</p>`;
  const summary = `<p class="muted">${rows.length} loop${rows.length === 1 ? '' : 's'}, ${running} running · namespace ${esc(ctx.source.namespace)}</p>`;
  const options = ['all', ...FILTERS]
    .map(
      (f) =>
        `<option value="${f === 'all' ? '' : f}"${(filter || '') === (f === 'all' ? '' : f) ? ' selected' : ''}>${esc(f.replace(/_/g, ' '))}</option>`,
    )
    .join('');
  const sections = { loops: `${summary}${table}` };
  const body = `<section class="card">
<div class="title-row"><h1>Loops</h1>
<form class="filter" method="get" action="/"><label for="phase">Phase</label> <select id="phase" name="phase" data-autosubmit>${options}</select> <button type="submit">Filter</button></form></div>
${live('loops', sections.loops)}
</section>`;
  return { title: 'Loops', sections, body, minRefreshMs: 2000 };
};
