import { loopStationDir, sessionLabel } from '../layout.js';
import { renderMarkdownHtml, renderMarkdownInlineHtml } from '../markdown-html.js';
import { escapeHtml as esc, relativeHref } from '../render/html-escape.js';
import type { ProtectionCheck, ReportData, ReportImage, ReportLink, ReportSession } from './model.js';
import {
  columnTitle,
  deltaVsBest,
  folderKind,
  gain,
  limitText,
  NOT_RECORDED,
  protectionGrid,
  readable,
  reasonLine,
  sourceGroups,
  stopText,
  timeText,
  valueText,
} from './text.js';
import { decisionClassName, decisionStyle, renderTrendFigure } from './trend-chart.js';

/** `loop-station report`: one self-contained HTML page (inline CSS and SVG, images as data URIs, no scripts). */

export interface HtmlReportOptions {
  /** From the report file's folder to the loop root (`..` for loop_station/report.html); `''` when they are one. */
  hrefBase: string;
  /** ISO time shown in the footer; left out when absent (tests). */
  generatedAt?: string;
  /** Title when contract.json names no loop (the root folder's name). @default loop */
  fallbackTitle?: string;
}

const href = (base: string, path: string) => relativeHref(base ? `${base}/${path}` : path);
const muted = (text: string) => `<span class="muted">${esc(text)}</span>`;
const orNot = (v: string | null | undefined) =>
  v === null || v === undefined || v === '' ? muted(NOT_RECORDED) : esc(v);

const folderOf = (path: string | null) => (path === null ? '' : path.split('/').slice(0, -1).join('/'));

/** Markdown from a folder file as HTML: escaped, links resolved against `source`'s folder (protocol/markdown-html.ts). */
function markdownBlock(md: string, source: string | null, hrefBase: string): string {
  const html = renderMarkdownHtml(md, { sourceDir: folderOf(source), hrefBase });
  return html.trim() === '' ? `<p>${muted(NOT_RECORDED)}</p>` : html;
}

const badge = (decision: string | null) =>
  `<span class="badge badge-${decisionClassName(decision)}" style="--c:${decisionStyle(decision).color}">${esc(decision ?? NOT_RECORDED)}</span>`;

const verdictPill = (verdict: string) =>
  `<span class="verdict verdict-${/^[a-z_]+$/.test(verdict) ? verdict : 'other'}">${esc(verdict)}</span>`;

function links(base: string, items: readonly ReportLink[]): string {
  return items.length
    ? items
        .map((l) => `<a href="${href(base, l.path)}" title="${esc(l.path)}">${esc(l.label)}</a>`)
        .join('<span class="sep"> · </span>')
    : muted('—');
}

function headerCard(data: ReportData, title: string, base: string): string {
  const metric = data.metric ?? 'metric';
  const g = gain(data);
  const sessionsLine = data.budget.find((b) => b.label === 'sessions');
  const tiles = [
    [
      'best',
      data.best ? esc(String(data.best.value)) : muted(NOT_RECORDED),
      data.best
        ? `${esc(metric)} · session ${sessionLabel(data.best.session)}${data.bestComputed ? ' (computed)' : ''}`
        : esc(metric),
    ],
    [
      'baseline',
      data.baseline ? orNot(data.baseline.value === null ? null : String(data.baseline.value)) : muted(NOT_RECORDED),
      `session 000${data.baseline?.protection ? ` · protection ${esc(data.baseline.protection)}` : ''}`,
    ],
    [
      'change',
      g ? `<span class="${g.improved ? 'good' : 'bad'}">${esc(g.text)}</span>` : muted(NOT_RECORDED),
      'best against the baseline',
    ],
    [
      'sessions',
      sessionsLine?.used ? esc(sessionsLine.used) : muted(NOT_RECORDED),
      sessionsLine?.limit ? `of ${esc(sessionsLine.limit)}` : 'no limit recorded',
    ],
    [
      'stop reason',
      data.stopReason
        ? `<span class="tile-word">${esc(data.stopReason).replace(/_/g, '_<wbr>')}</span>`
        : muted(NOT_RECORDED),
      data.stoppedAt
        ? esc(timeText(data.stoppedAt))
        : data.stopReason
          ? ''
          : esc(stopText(data).replace(`${NOT_RECORDED} `, '')),
    ],
  ];
  return `<header class="card head">
<p class="eyebrow">loop-station report</p>
<h1>${esc(title)}</h1>
<p class="goal">${data.goal ? renderMarkdownInlineHtml(data.goal, { sourceDir: loopStationDir, hrefBase: base }) : muted('goal not recorded')}</p>
<p class="evidence">${esc(data.direction)} <strong>${esc(metric)}</strong>${data.directionRecorded ? '' : muted(' (direction not recorded: assumed)')}${data.evidenceCommand ? ` via <code>${esc(data.evidenceCommand)}</code>` : ''}</p>
${data.evidenceError ? `<p class="evidence-error bad">evidence failed at session ${sessionLabel(data.evidenceError.session)}: ${esc(data.evidenceError.error)}</p>` : ''}
<div class="tiles">${tiles.map(([k, v, sub]) => `<div class="tile"><div class="tile-k">${k}</div><div class="tile-v">${v}</div><div class="tile-s">${sub}</div></div>`).join('')}</div>
<table class="budget"><caption>Budget used</caption><tbody>${data.budget.map((b) => `<tr><th scope="row">${esc(b.label)}</th><td>${b.used === null ? muted(NOT_RECORDED) : esc(b.used)} <span class="muted">${esc(limitText(b))}</span></td></tr>`).join('')}</tbody></table>
</header>`;
}

function chartCard(data: ReportData): string {
  const points = data.sessions.map((s) => ({
    session: s.session,
    value: s.value,
    best: s.bestValue,
    decision: s.decision,
  }));
  return `<section class="card" id="trend">
<h2>Trend</h2>
${renderTrendFigure(points, { metric: data.metric ?? 'metric', direction: data.direction, bestSession: data.best?.session ?? null })}
${data.bestComputed ? `<p class="note">The folder records no best value for some sessions: the best-so-far line is computed from the values (${esc(data.direction)}, protection not failing).</p>` : ''}
</section>`;
}

function sessionRow(data: ReportData, s: ReportSession, i: number, base: string): string {
  const d = deltaVsBest(data.sessions, i, data.direction);
  const isBest = data.best?.session === s.session;
  // Why each session was decided, readable without hovering: a blocked run, a protected file, a veto.
  const why = s.session === 0 ? null : reasonLine(s.reason, 140);
  const reviews = s.reviews.length
    ? s.reviews.map((r) => `<span class="review">${esc(r.agent)} ${verdictPill(r.verdict)}</span>`).join(' ')
    : muted(s.session === 0 ? '—' : NOT_RECORDED);
  return `<tr class="${isBest ? 'is-best' : ''}" data-session="${s.session}">
<td class="num">${sessionLabel(s.session)}${isBest ? ' <span class="star" title="best">★</span>' : ''}</td>
<td>${s.axis ? esc(s.axis) : muted(s.session === 0 ? '—' : 'default')}</td>
<td${s.reason ? ` title="${esc(s.reason)}"` : ''}>${badge(s.decision)}${s.answer ? ` <span class="answer">${esc(s.answer)}</span>` : ''}${why ? `<span class="muted why">${esc(why)}</span>` : ''}</td>
<td class="num">${s.value === null ? muted(NOT_RECORDED) : esc(String(s.value))}</td>
<td class="num">${d ? `<span class="${d.better ? 'good' : 'flat'}">${esc(d.text)}</span>` : muted('—')}</td>
<td class="num">${s.bestValue === null ? muted(NOT_RECORDED) : `${esc(String(s.bestValue))}${s.bestSession !== null ? ` <span class="muted">(${sessionLabel(s.bestSession)})</span>` : ''}`}</td>
<td>${s.protection ? `<span class="prot prot-${s.protection}">${s.protection}</span>` : muted(NOT_RECORDED)}</td>
<td>${reviews}</td>
<td class="links">${links(base, s.artifacts)}</td>
</tr>`;
}

function sessionsCard(data: ReportData, base: string): string {
  const body = data.sessions.length
    ? data.sessions.map((s, i) => sessionRow(data, s, i, base)).join('\n')
    : `<tr><td colspan="9">${muted('no sessions recorded: no leaderboard.csv, session folders or ledger rows')}</td></tr>`;
  return `<section class="card" id="sessions">
<h2>Sessions</h2>
<div class="scroll"><table class="sessions">
<thead><tr><th>session</th><th>axis</th><th>decision</th><th class="num">${esc(data.metric ?? 'value')}</th><th class="num">Δ vs best</th><th class="num">best so far</th><th>protection</th><th>reviews</th><th>artifacts</th></tr></thead>
<tbody>
${body}
</tbody></table></div>
<p class="note">Δ vs best: this session's value against the best before it. Under each decision, the supervisor's reason (hover it for the whole of it).</p>
</section>`;
}

function checkCell(check: ProtectionCheck | undefined): string {
  if (!check) return muted(NOT_RECORDED);
  const verdict = check.pass === null ? 'unknown' : check.pass ? 'pass' : 'fail';
  return `${check.value === null ? muted('no value') : esc(readable(check.value))} <span class="prot prot-${verdict}">${verdict}</span>`;
}

function protectionCard(data: ReportData): string {
  const { criteria } = data.protection;
  const { criteria: all, cols } = protectionGrid(data, (which, n) => `${which} · session ${sessionLabel(n)}`);
  const table = all.length
    ? `<table class="protection"><thead><tr><th>criterion</th>${cols.map((c) => `<th>${esc(c.label)}</th>`).join('')}${cols.length ? '' : '<th>status</th>'}</tr></thead><tbody>${all.map((criterion) => `<tr><td><code>${esc(criterion)}</code>${criteria.includes(criterion) ? '' : muted(' (not in the contract)')}</td>${cols.length ? cols.map((c) => `<td>${checkCell(c.checks.find((k) => k.criterion === criterion))}</td>`).join('') : `<td>${muted('no metrics.json for the best or last session')}</td>`}</tr>`).join('')}</tbody></table>`
    : `<p>${muted('no protection criteria recorded')}</p>`;
  const success = data.successCriteria.length
    ? `<p>Success criteria: ${data.successCriteria.map((c) => `<code>${esc(c)}</code>`).join(', ')}</p>`
    : '';
  return `<section class="card" id="protection"><h2>Protection criteria</h2>${table}${success}</section>`;
}

function imageTag(img: ReportImage | null, base: string): string {
  if (!img) return muted('no image');
  if (!img.dataUri) return `<a href="${href(base, img.path)}">${esc(img.name)}</a> ${muted('(too large to embed)')}`;
  // Small evidence (a 96×96 crop) is shown at twice its size with crisp pixels.
  const small = img.width !== null && img.width <= 160;
  const size =
    img.width === null
      ? ''
      : ` width="${small ? img.width * 2 : img.width}"${img.height === null ? '' : ` height="${small ? img.height * 2 : img.height}"`}`;
  return `<a href="${href(base, img.path)}"><img class="${small ? 'pixelated' : ''}" src="${img.dataUri}" alt="${esc(`session ${sessionLabel(img.session)} ${img.name}`)}"${size}></a>`;
}

function picturesCard(data: ReportData, base: string): string {
  const pics = data.pictures;
  if (!pics)
    return `<section class="card" id="pictures"><h2>Pictures</h2><p>${muted('no evidence images recorded (none under sessions/session_NNN/ or code_variants/session_NNN/*/evidence/)')}</p></section>`;
  const valueOf = (session: number) => data.sessions.find((s) => s.session === session)?.value ?? null;
  const head = pics.columns
    .map(
      (c) =>
        `<th>${esc(columnTitle(c))}<br><span class="muted">${esc(data.metric ?? 'value')} ${esc(valueText(valueOf(c.session)))}</span></th>`,
    )
    .join('');
  const changing = pics.rows.filter((r) => !r.identical);
  const same = pics.rows.filter((r) => r.identical);
  const rows = changing.map(
    (r) =>
      `<tr><th scope="row">${esc(r.name)}</th>${r.cells.map((c) => `<td class="pic">${imageTag(c, base)}</td>`).join('')}</tr>`,
  );
  if (same.length) {
    rows.push(
      `<tr class="same"><th scope="row">same in all ${pics.columns.length} sessions</th><td class="pic" colspan="${pics.columns.length}"><div class="same-row">${same.map((r) => `<figure>${imageTag(r.cells[0]!, base)}<figcaption>${esc(r.name)}</figcaption></figure>`).join('')}</div></td></tr>`,
    );
  }
  return `<section class="card" id="pictures"><h2>Pictures</h2>
<div class="scroll"><table class="pictures"><thead><tr><th></th>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>
<p class="note">Evidence images of the first, best and last sessions, embedded in this file; click one to open the original.</p></section>`;
}

function interventionsCard(data: ReportData, base: string): string {
  const amendments = data.amendments.length
    ? `<h3>Contract amendments</h3><ul>${data.amendments.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>`
    : '';
  return `<section class="card" id="interventions"><h2>Interventions</h2>${data.interventions === null ? `<p>${muted(NOT_RECORDED)}</p>` : markdownBlock(data.interventions, data.interventionsSource, base)}${amendments}</section>`;
}

function finalCard(data: ReportData, base: string): string {
  const body = data.finalSections.length
    ? data.finalSections
        .map(
          (s) =>
            `<div class="final-section"><h3>${esc(s.title)}</h3>${markdownBlock(s.body, data.finalSource, base)}</div>`,
        )
        .join('\n')
    : `<p>${muted('no FINAL_SUMMARY.md: the loop is still running or stopped before writing it')}</p>`;
  return `<section class="card" id="final"><h2>Final summary</h2>${body}</section>`;
}

function footer(data: ReportData, o: HtmlReportOptions): string {
  const problems = data.problems.length
    ? `<h3>Reading notes</h3><ul>${data.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`
    : '';
  return `<footer class="foot">${problems}
<p>${data.workflowId ? `workflow <code>${esc(data.workflowId)}</code> · ` : ''}${esc(folderKind(data))}${o.generatedAt ? ` · generated ${esc(o.generatedAt)}` : ''} · from ${
    data.sources.length
      ? sourceGroups(data.sources)
          .map((g) => (g.path ? `<a href="${href(o.hrefBase, g.path)}">${esc(g.label)}</a>` : esc(g.label)))
          .join(', ')
      : muted('no readable files')
  }</p>
</footer>`;
}

const CSS = `
:root{--ink:#111827;--ink2:#374151;--mute:#6b7280;--line:#e5e7eb;--bg:#f3f4f6;--card:#fff;--good:#047857;--bad:#b91c1c}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;padding:24px 16px 40px}
.report{max-width:1120px;margin:0 auto;display:grid;grid-template-columns:minmax(0,1fr);gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
h1{font-size:26px;line-height:1.2;margin:2px 0 8px}
h2{font-size:17px;margin:0 0 12px}
h3{font-size:14px;margin:16px 0 6px;color:var(--ink2)}
h4{font-size:13px;margin:10px 0 4px}
p{margin:6px 0}
a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;border-radius:4px;padding:1px 4px;overflow-wrap:anywhere}
.muted{color:var(--mute)}
.why{display:block;font-size:.8em;max-width:26em;white-space:normal}
.good{color:var(--good);font-weight:600}.bad{color:var(--bad);font-weight:600}.flat{color:var(--mute)}
.eyebrow{margin:0;color:var(--mute);text-transform:uppercase;letter-spacing:.08em;font-size:11px;font-weight:600}
.goal{color:var(--ink2);max-width:90ch}
.evidence{color:var(--ink2)}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:16px 0 12px}
.tile{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fafafa}
.tile-k{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--mute);font-weight:600}
.tile-v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.tile-s{font-size:12px;color:var(--mute)}
.tile-word{font-size:17px;line-height:1.3;display:inline-block;padding-top:4px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
thead th{font-size:12px;color:var(--mute);font-weight:600;border-bottom:1px solid #d1d5db;white-space:nowrap}
caption{text-align:left;font-weight:600;font-size:12px;color:var(--mute);text-transform:uppercase;letter-spacing:.06em;padding-bottom:4px}
.budget{width:auto;min-width:340px}.budget th{font-weight:500;color:var(--ink2);padding-right:24px}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
.sessions td{font-size:13px}
.sessions tr.is-best td{background:#ecfdf5}
.star{color:var(--good)}
.badge{display:inline-block;white-space:nowrap;font-size:12px;font-weight:600;border-radius:999px;padding:0 8px;border:1px solid var(--c);color:var(--c);background:color-mix(in srgb,var(--c) 10%,#fff)}
.badge-stop{color:#fff;background:#111827}
.verdict{font-size:12px;border-radius:4px;padding:0 5px;background:#f3f4f6;color:var(--ink2)}
.verdict-supported{background:#d1fae5;color:#065f46}.verdict-unsupported{background:#fee2e2;color:#991b1b}.verdict-uncertain{background:#fef3c7;color:#92400e}.verdict-unreviewed{background:#fee2e2;color:#991b1b;font-weight:600}
.review{white-space:nowrap;font-size:12px}
.prot{font-size:12px;font-weight:600}.prot-pass{color:var(--good)}.prot-fail{color:var(--bad)}.prot-unknown{color:var(--mute)}
.links{font-size:12px;min-width:150px}.links a{white-space:nowrap}.links .sep{color:#d1d5db}
.chart{margin:0}.chart svg.trend-chart{width:100%;height:auto;display:block}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 16px;padding:0;margin:8px 0 0;font-size:12px;color:var(--ink2)}
.legend li{display:flex;align-items:center;gap:6px;white-space:nowrap}.legend svg{flex:none}
.note{font-size:12px;color:var(--mute)}
.pictures{table-layout:fixed}.pictures th{white-space:normal}.pictures thead th:first-child,.pictures th[scope=row]{font-weight:500;width:110px;font-size:12px}
.pic img{display:block;max-width:100%;height:auto;border:1px solid var(--line);border-radius:4px}
.pic img.pixelated{image-rendering:pixelated}
.same-row{display:flex;flex-wrap:wrap;gap:12px}.same-row figure{margin:0}.same-row img{width:auto;max-height:140px}.same-row figcaption{font-size:12px;color:var(--mute)}
.final-section ul,.final-section ol,#interventions ul,#interventions ol{margin:4px 0;padding-left:20px}
pre{background:#f3f4f6;border-radius:6px;padding:8px 10px;margin:6px 0;overflow-x:auto}pre code{padding:0;background:none;overflow-wrap:normal;white-space:pre}
blockquote{margin:6px 0;padding-left:10px;border-left:3px solid var(--line);color:var(--ink2)}
.link-removed{color:var(--mute)}
.md-table td,.md-table th{font-size:12px}
.foot{color:var(--mute);font-size:12px;padding:0 8px}.foot ul{padding-left:20px}
@media print{
 html{background:#fff;font-size:12px}body{padding:0}
 .report{max-width:none;gap:10px}
 .card{box-shadow:none;border-color:#d1d5db;padding:12px 14px;break-inside:avoid}
 #sessions,#final{break-inside:auto}
 tr,figure,.tile{break-inside:avoid}
 a{color:inherit}
 .scroll{overflow:visible}
 .tiles{grid-template-columns:repeat(5,minmax(0,1fr));gap:6px}.tile{padding:6px 8px}.tile-v{font-size:17px}.tile-word{font-size:13px}
 .sessions th,.sessions td{padding:4px 4px;font-size:10px;overflow-wrap:anywhere}
 .sessions thead th{overflow-wrap:normal}.review,.verdict,.badge,.links,.prot{font-size:10px}.review{white-space:normal}.links{min-width:0}
}
@page{margin:14mm}
`;

/** The whole page. Every text from the folder is escaped; links are relative to the report file. */
export function renderReportHtml(data: ReportData, options: HtmlReportOptions): string {
  const name = data.loopName ?? options.fallbackTitle ?? 'loop';
  const title = `${name} — loop-station report`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="generator" content="loop-station report">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main class="report">
${headerCard(data, name, options.hrefBase)}
${chartCard(data)}
${sessionsCard(data, options.hrefBase)}
${protectionCard(data)}
${picturesCard(data, options.hrefBase)}
${interventionsCard(data, options.hrefBase)}
${finalCard(data, options.hrefBase)}
${footer(data, options)}
</main>
</body>
</html>
`;
}
