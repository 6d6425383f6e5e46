import type { ReportData, ReportFiles } from '../../protocol/report/model.js';
import type { LoopStatus } from '../../protocol/schemas/messages.js';
import { loopElapsedMs } from '../../cli/commands/status.js';
import { CONTROLS, type ControlName } from '../control.js';
import type { LoopSnapshot } from '../temporal-source.js';
import {
  budgetSection,
  chartSection,
  flagsTable,
  leaderboardSection,
  pendingQuestion,
  runningAgent,
} from './loop-parts.js';
import {
  elapsedSince,
  esc,
  label3,
  live,
  muted,
  notFound,
  num,
  type Page,
  type PageContext,
  type PageHandler,
  phaseBadge,
  timeAgo,
} from './page.js';

/**
 * A loop's page: what it is doing now, its trend, budget, leaderboard, pending questions and the
 * buttons that steer it. Sections refresh through the events stream; the controls do not, so a
 * half-typed redirect survives a refresh.
 */

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/** The report model of the loop's folder, or why it cannot be shown (no root, outside the allowed roots). */
async function loopFiles(
  ctx: PageContext,
  snap: LoopSnapshot,
): Promise<{ files: ReportFiles; data: ReportData } | { problem: string }> {
  const root = snap.status?.root ?? snap.memo.root;
  if (!root) return { problem: 'the loop names no root folder' };
  const key = [snap.runStatus, snap.closeTime, snap.status?.updatedAt, snap.status?.phase, snap.status?.session].join(
    '|',
  );
  try {
    return await ctx.files.report(root, key);
  } catch (error) {
    return { problem: `files not shown: ${message(error)}` };
  }
}

const button = (name: ControlName, extra = '') =>
  `<button type="button" data-control="${name}"${CONTROLS[name].confirm ? ' data-confirm' : ''}${extra}>${esc(CONTROLS[name].label)}</button>`;

function headSection(ctx: PageContext, snap: LoopSnapshot, data: ReportData | null): string {
  const s = snap.status;
  const name = s?.name ?? data?.loopName ?? snap.workflowId;
  const stopReason =
    s?.stopReason ?? snap.result?.stopReason ?? (snap.runStatus === 'RUNNING' ? null : (data?.stopReason ?? null));
  // The controls go with the stop reason: a loop that has one is ending, even while its workflow closes.
  const ended = snap.runStatus !== 'RUNNING' || stopReason !== null;
  const session = s
    ? `session ${s.session} of ${s.budget.sessions}`
    : snap.result
      ? `${snap.result.sessions} sessions`
      : '';
  const best = s?.best ?? snap.result?.best ?? data?.best ?? null;
  const metric = s?.metric ?? snap.memo.metric ?? data?.metric ?? 'metric';
  const links = [
    ctx.source.temporalLink(snap.workflowId)
      ? `<a href="${esc(ctx.source.temporalLink(snap.workflowId)!)}" rel="noreferrer" target="_blank">loop workflow in the Temporal UI</a>`
      : '',
    s && s.session > 0 && ctx.source.temporalLink(`${snap.workflowId}/session-${label3(s.session)}`)
      ? `<a href="${esc(ctx.source.temporalLink(`${snap.workflowId}/session-${label3(s.session)}`)!)}" rel="noreferrer" target="_blank">session ${label3(s.session)} workflow</a>`
      : '',
  ].filter(Boolean);
  return `<div class="title-row"${ended ? ' data-loop-ended' : ''}><h1>${esc(name)}</h1>${phaseBadge(s?.phase ?? null, snap.runStatus)}</div>
<p class="goal">${esc(s?.goal ?? snap.memo.goal ?? data?.goal ?? '')}</p>
<dl class="facts">
<div><dt>session</dt><dd>${esc(session) || muted('—')}</dd></div>
<div><dt>best ${esc(metric)}</dt><dd>${best ? `${num(best.value)} <span class="muted">(session ${label3(best.session)})</span>` : muted('none yet')}</dd></div>
<div><dt>baseline</dt><dd>${num(s?.baseline ?? snap.result?.baseline ?? data?.baseline?.value)}</dd></div>
<div><dt>direction</dt><dd>${esc(s?.direction ?? snap.memo.direction ?? data?.direction ?? '—')}</dd></div>
<div><dt>started</dt><dd>${timeAgo(snap.startTime)}</dd></div>
<div><dt>last change</dt><dd>${timeAgo(snap.closeTime ?? s?.updatedAt ?? null)}</dd></div>
</dl>
${stopReason ? `<p class="stopped">ended: <strong class="stop-reason">${esc(stopReason)}</strong>${snap.closeTime ? ` · ${timeAgo(snap.closeTime)}` : ''}</p>` : ended ? `<p class="stopped">ended: <strong>${esc(snap.runStatus.toLowerCase())}</strong></p>` : ''}
${s?.stopRequested && !stopReason ? `<p class="attention">stop requested (${esc(s.stopRequested.mode)})${s.stopRequested.reason ? `: ${esc(s.stopRequested.reason)}` : ''}</p>` : ''}
${snap.problem ? `<p class="problem">${esc(snap.problem)}</p>` : ''}
<p class="muted small"><code>${esc(snap.workflowId)}</code>${(s?.root ?? snap.memo.root) ? ` · <code>${esc(s?.root ?? snap.memo.root ?? '')}</code>` : ''}${links.length ? ` · ${links.join(' · ')}` : ''}</p>`;
}

function pendingSection(s: LoopStatus | null, files: ReportFiles | null): string {
  const p = s?.pending;
  if (!p) return '';
  if (p.kind === 'approval' && p.session !== null) {
    const q = pendingQuestion(files, p.session);
    return `<section class="card pending" aria-labelledby="pending-h"><h2 id="pending-h">Waiting for your answer</h2>
<p class="question">${esc(q?.text ?? p.message)}</p>
<p class="muted">${esc(p.message)}${q && p.onApprove === undefined ? `: Approve applies <strong>${esc(q.approve)}</strong>, Deny applies <strong>${esc(q.deny)}</strong>` : ''}</p>
<div class="buttons">${button('approve', ` data-session="${p.session}"`)}${button('deny', ` data-session="${p.session}"`)}</div></section>`;
  }
  // A pause and a run blocked on a fix both end with resume.
  const resumes = p.kind === 'pause' || p.kind === 'blocked';
  const title = p.kind === 'pause' ? 'Paused' : p.kind === 'blocked' ? 'Blocked: needs a fix' : 'Waiting';
  return `<section class="card pending"><h2>${title}</h2><p>${esc(p.message)}</p>${resumes ? `<div class="buttons">${button('resume')}</div>` : ''}</section>`;
}

async function nowSection(ctx: PageContext, snap: LoopSnapshot): Promise<string> {
  const s = snap.status;
  if (snap.runStatus !== 'RUNNING')
    return `<h2>Now</h2><p>Nothing runs: the loop has ended${(s?.stopReason ?? snap.result?.stopReason) ? ` (<span class="stop-reason">${esc(s?.stopReason ?? snap.result?.stopReason ?? '')}</span>)` : ''}.</p>`;
  if (!s) return `<h2>Now</h2><p class="problem">${esc(snap.problem ?? 'no status')}</p>`;
  if (s.session === 0) return `<h2>Now</h2><p>${phaseBadge(s.phase)} framing the loop and measuring the baseline</p>`;
  let flags: Awaited<ReturnType<typeof ctx.files.flags>> = [];
  let tail: Awaited<ReturnType<typeof ctx.files.tail>> = null;
  let problem = '';
  try {
    flags = await ctx.files.flags(s.root, s.session);
    const run = runningAgent(flags);
    tail = await ctx.files.tail(
      s.root,
      s.session,
      run?.agent && run.role ? { agent: run.agent, role: run.role } : null,
    );
  } catch (error) {
    problem = `<p class="problem">files not shown: ${esc(message(error))}</p>`;
  }
  const run = runningAgent(flags);
  const who = run
    ? `<strong>${esc(run.agent ?? '?')}</strong> <span class="muted">${esc((run.role ?? '').toLowerCase())}</span>, ${elapsedSince(run.timestamp)}`
    : muted(s.phase === 'awaiting_approval' ? 'waiting for an answer' : 'no agent running');
  const output = tail?.lines.length
    ? `<h3>Last output <span class="muted small">${esc(tail.path.split('/').pop() ?? '')}</span></h3><pre class="log">${esc(tail.lines.join('\n'))}</pre>`
    : '';
  return `<h2>Now</h2>
<dl class="facts"><div><dt>phase</dt><dd>${phaseBadge(s.phase)}</dd></div><div><dt>session</dt><dd>${label3(s.session)}</dd></div><div><dt>agent</dt><dd>${who}</dd></div></dl>
${problem}${output}
<h3>Flags of session ${label3(s.session)}</h3>${flagsTable(flags)}`;
}

function interventionsSection(s: LoopStatus | null): string {
  const list = s?.interventions ?? [];
  if (!list.length) return `<h2>Interventions</h2><p class="empty">none yet</p>`;
  return `<h2>Interventions</h2><div class="scroll"><table class="interventions stack"><thead><tr><th>time</th><th>kind</th><th class="num">session</th><th>note</th><th>via</th><th>by</th></tr></thead><tbody>${[
    ...list,
  ]
    .reverse()
    .map(
      (i) =>
        `<tr><td data-label="time">${timeAgo(i.at)}</td><td data-label="kind">${esc(i.kind)}</td><td class="num" data-label="session">${label3(i.session)}</td><td data-label="note">${esc(i.note)}</td><td data-label="via">${esc(i.via)}</td><td data-label="by">${esc(i.by ?? '')}</td></tr>`,
    )
    .join('')}</tbody></table></div>`;
}

function controlsCard(): string {
  return `<section class="card controls" aria-labelledby="controls-h"><h2 id="controls-h">Steer</h2>
<fieldset id="control-set">
<div class="field"><label for="control-note">Note or reason (optional, recorded with the intervention)</label><input id="control-note" name="note" maxlength="4000" autocomplete="off"></div>
<div class="buttons">${button('pause')}${button('resume')}${button('stop', ' class="danger"')}${button('stop-now', ' class="danger"')}</div>
<form class="redirect" data-control-form="redirect"><label for="redirect-note">Redirect: what the next sessions should do instead</label><textarea id="redirect-note" name="note" rows="2" maxlength="4000" required></textarea><button type="submit">Redirect</button></form>
<form class="extend" data-control-form="extend"><span class="form-title">Extend the budget to</span>
<label>sessions <input name="sessions" type="number" min="1" step="1" inputmode="numeric"></label>
<label>wall clock <input name="wallClock" placeholder="12h" autocomplete="off"></label>
<label>tokens <input name="tokens" type="number" min="1" step="1" inputmode="numeric"></label>
<label>cost USD <input name="costUsd" type="number" min="0.01" step="0.01" inputmode="decimal"></label>
<button type="submit">Extend</button></form>
</fieldset>
<div class="confirm" id="confirm" hidden><p id="confirm-text"></p><button type="button" id="confirm-yes" class="danger">Confirm</button> <button type="button" id="confirm-no">Cancel</button></div>
<p class="answer" id="answer" role="status" aria-live="polite"></p>
</section>`;
}

export const loopPage: PageHandler = async (ctx, params, query) => {
  const workflowId = params[0]!;
  const snap = await ctx.source.snapshot(workflowId);
  if (!snap)
    return notFound(`No loop ${workflowId}`, `There is no loop ${workflowId} in namespace ${ctx.source.namespace}.`);
  const read = await loopFiles(ctx, snap);
  const report = 'data' in read ? read : null;
  const s = snap.status;
  const running = snap.runStatus === 'RUNNING' && !s?.stopReason;
  // A running loop's clock ticks in the page; the section itself moves in whole 10 s steps, not every refresh.
  const elapsed = s ? loopElapsedMs(s, ctx.now()) : 0;
  const sections: Record<string, string> = {
    head: headSection(ctx, snap, report?.data ?? null),
    pending: pendingSection(s, report?.files ?? null),
    now: await nowSection(ctx, snap),
    chart: report
      ? chartSection(report.data, report.files, query.get('metric'))
      : `<h2>Trend</h2><p class="problem">${esc('problem' in read ? read.problem : '')}</p>`,
    budget: s ? budgetSection(s, running ? Math.floor(elapsed / 10_000) * 10_000 : elapsed, running) : '',
    board: report ? leaderboardSection(workflowId, report.data) : '',
    interventions: interventionsSection(s),
  };
  const body = `<section class="card">${live('head', sections.head!)}</section>
${live('pending', sections.pending!)}
<div class="grid">
<section class="card">${live('now', sections.now!)}</section>
${controlsCard()}
</div>
<section class="card">${live('chart', sections.chart!)}</section>
<div class="grid">
<section class="card">${live('budget', sections.budget!)}</section>
<section class="card">${live('interventions', sections.interventions!)}</section>
</div>
<section class="card">${live('board', sections.board!)}</section>`;
  return { title: s?.name ?? workflowId, sections, body } satisfies Page;
};
