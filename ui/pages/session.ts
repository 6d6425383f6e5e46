import { parseDecisionBlock } from '../../protocol/decision.js';
import { reviewsDir, sessionFilePath } from '../../protocol/layout.js';
import type { ReportData, ReportFiles, ReportImage } from '../../protocol/report/model.js';
import type { VariantDiff } from '../loop-files.js';
import { artifactHeader, renderArtifact } from '../markdown.js';
import { flagsTable } from './loop-parts.js';
import {
  decisionBadge,
  esc,
  label3,
  live,
  loopHref,
  muted,
  notFound,
  num,
  type PageHandler,
  sessionHref,
} from './page.js';

/**
 * One session in full: the decision and its reason, the executor's report, the diff of its code
 * against the best, its pictures beside the best's, each review, and its flags. Agent text is
 * rendered only through ui/markdown.ts.
 */

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

function decisionSection(files: ReportFiles, data: ReportData, n: number): string {
  const row = data.sessions.find((s) => s.session === n);
  const text = files[sessionFilePath(n, 'decision')];
  const block = typeof text === 'string' ? parseDecisionBlock(text, { mode: 'original', session: n }).block : undefined;
  if (!row && !block)
    return `<h2>Decision</h2><p class="empty">${n === 0 ? 'session 000 is the baseline: no decision' : 'no decision yet'}</p>`;
  const reason = block?.reason ?? row?.reason;
  const facts = [
    ['decision', decisionBadge(block?.class ?? row?.decision ?? null)],
    [data.metric ?? 'value', num(block?.value ?? row?.value)],
    [
      'best after it',
      `${num(row?.bestValue ?? block?.best_value)}${row?.bestSession !== null && row?.bestSession !== undefined ? ` <span class="muted">(session ${label3(row.bestSession)})</span>` : ''}`,
    ],
    ['protection', esc(block?.protection ?? row?.protection ?? '—')],
    ['axis', esc(block?.axis ?? row?.axis ?? '—')],
    ...(block?.approval === 'pending'
      ? [
          [
            'approval',
            `pending: approve → ${esc(block.on_approve ?? block.class)}, deny → ${esc(block.on_deny ?? 'keep')}`,
          ],
        ]
      : []),
    ...(block?.stop_reason ? [['stop reason', `<span class="stop-reason">${esc(block.stop_reason)}</span>`]] : []),
  ];
  return `<h2>Decision</h2><dl class="facts">${facts.map(([k, v]) => `<div><dt>${esc(k!)}</dt><dd>${v}</dd></div>`).join('')}</dl>
${reason ? `<p class="reason"><strong>Reason:</strong> ${esc(reason)}</p>` : ''}`;
}

function reportSection(files: ReportFiles, n: number): string {
  const text = files[sessionFilePath(n, 'executorReport')];
  return `<h2>Executor report</h2>${typeof text === 'string' && text.trim() ? `<div class="md">${renderArtifact(text)}</div>` : '<p class="empty">no executor report</p>'}`;
}

function reviewsSection(files: ReportFiles, n: number): string {
  const dir = `${reviewsDir(n)}/`;
  const paths = Object.keys(files)
    .filter((p) => p.startsWith(dir) && p.endsWith('.md'))
    .sort();
  if (!paths.length) return `<h2>Reviews</h2><p class="empty">no reviews</p>`;
  return `<h2>Reviews</h2>${paths
    .map((p) => {
      const text = files[p] as string;
      const h = artifactHeader(text);
      const verdict = h.verdict ?? (h.status ?? '').toLowerCase() ?? 'not recorded';
      return `<article class="review-card"><h3>${esc(h.agent ?? p.slice(dir.length))} <span class="verdict verdict-${/^[a-z_]+$/.test(verdict) ? verdict : 'other'}">${esc(verdict || 'not recorded')}</span></h3>
<p>recommendation: <strong>${esc(h.recommendation ?? 'not recorded')}</strong>${h.blocked_reason && h.blocked_reason !== 'none' ? ` · blocked: ${esc(h.blocked_reason)}` : ''}</p>
<details><summary>the whole review</summary><div class="md">${renderArtifact(text)}</div></details></article>`;
    })
    .join('\n')}`;
}

function diffSection(diff: VariantDiff | string, against: number, n: number): string {
  const title = `<h2>Code against ${against === 0 ? 'the baseline' : `the best (session ${label3(against)})`}</h2>`;
  if (typeof diff === 'string') return `${title}<p class="problem">${esc(diff)}</p>`;
  if (!diff.from || !diff.to)
    return `${title}<p class="empty">no code variant recorded for ${diff.to ? `session ${label3(against)}` : `session ${label3(n)}`}</p>`;
  if (!diff.files.length) return `${title}<p class="empty">no file differs</p>`;
  // The first few files open; a long list stays readable folded.
  return `${title}${diff.files
    .map(
      (f, i) =>
        `<details class="diff"${i < 6 ? ' open' : ''}><summary><code>${esc(f.path)}</code>${f.note ? ` ${muted(f.note)}` : ''}</summary>${
          f.patch === null
            ? ''
            : `<pre class="patch">${f.patch
                .split('\n')
                .map(
                  (line) =>
                    `<span class="${/^(---|\+\+\+) /.test(line) ? 'file' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : ''}">${esc(line)}</span>`,
                )
                .join('\n')}</pre>`
        }</details>`,
    )
    .join('\n')}`;
}

const imageTag = (img: ReportImage | null | undefined, who: string) => {
  if (!img) return muted('no such image');
  if (!img.dataUri) return `${esc(img.name)} ${muted('(too large to show)')}`;
  const small = img.width !== null && img.width <= 160;
  return `<img class="${small ? 'pixelated' : ''}" src="${img.dataUri}" alt="${esc(`${who} ${img.name}`)}"${img.width ? ` width="${small ? img.width * 2 : img.width}"` : ''}${img.height ? ` height="${small ? img.height * 2 : img.height}"` : ''}>`;
};

function imagesSection(data: ReportData, n: number, against: number): string {
  const mine = data.sessions.find((s) => s.session === n)?.images ?? [];
  const theirs = data.sessions.find((s) => s.session === against)?.images ?? [];
  if (!mine.length) return `<h2>Pictures</h2><p class="empty">no evidence images in this session</p>`;
  const who = against === n ? null : against === 0 ? 'baseline' : `best (${label3(against)})`;
  return `<h2>Pictures${who ? ` beside the ${esc(who)}` : ''}</h2><div class="scroll"><table class="pictures"><thead><tr><th>image</th><th>session ${label3(n)}</th>${who ? `<th>${esc(who)}</th>` : ''}</tr></thead><tbody>${mine
    .map(
      (img) =>
        `<tr><th scope="row">${esc(img.name)}</th><td class="pic">${imageTag(img, `session ${label3(n)}`)}</td>${
          who
            ? `<td class="pic">${imageTag(
                theirs.find((t) => t.name === img.name),
                who,
              )}</td>`
            : ''
        }</tr>`,
    )
    .join('')}</tbody></table></div>`;
}

export const sessionPage: PageHandler = async (ctx, params) => {
  const workflowId = params[0]!;
  const n = Number(params[1]);
  const snap = await ctx.source.snapshot(workflowId);
  if (!snap)
    return notFound(`No loop ${workflowId}`, `There is no loop ${workflowId} in namespace ${ctx.source.namespace}.`);
  const root = snap.status?.root ?? snap.memo.root;
  const title = `${snap.status?.name ?? workflowId} · session ${label3(n)}`;
  let sections: Record<string, string>;
  try {
    if (!root) throw new Error('the loop names no root folder');
    const key = [snap.runStatus, snap.closeTime, snap.status?.updatedAt, snap.status?.phase, snap.status?.session].join(
      '|',
    );
    const { files, data } = await ctx.files.report(root, key);
    if (!data.sessions.some((s) => s.session === n) && n > (snap.status?.session ?? 0)) {
      return notFound(title, `Session ${label3(n)} of ${workflowId} has not started.`);
    }
    const best = snap.status?.best?.session ?? data.best?.session ?? 0;
    const against = best === n ? 0 : best;
    const diff =
      n === 0 ? null : await ctx.files.variantDiff(root, files, against, n).catch((error: unknown) => message(error));
    const temporal = ctx.source.temporalLink(`${workflowId}/session-${label3(n)}`);
    sections = {
      head: `<p class="crumbs"><a href="${loopHref(workflowId)}">← ${esc(snap.status?.name ?? workflowId)}</a></p><div class="title-row"><h1>Session ${label3(n)}</h1>${n > 0 ? `<nav class="pager">${n > 1 ? `<a href="${sessionHref(workflowId, n - 1)}">previous</a>` : ''} <a href="${sessionHref(workflowId, n + 1)}">next</a></nav>` : ''}</div>${temporal && n > 0 ? `<p class="small"><a href="${esc(temporal)}" rel="noreferrer" target="_blank">session workflow in the Temporal UI</a></p>` : ''}`,
      decision: decisionSection(files, data, n),
      report: n === 0 ? '' : reportSection(files, n),
      diff: diff === null ? '' : diffSection(diff, against, n),
      images: imagesSection(data, n, against),
      reviews: n === 0 ? '' : reviewsSection(files, n),
      flags: n === 0 ? '' : `<h2>Flags</h2>${flagsTable(await ctx.files.flags(root, n))}`,
    };
  } catch (error) {
    sections = {
      head: `<p class="crumbs"><a href="${loopHref(workflowId)}">← ${esc(workflowId)}</a></p><h1>Session ${label3(n)}</h1><p class="problem">files not shown: ${esc(message(error))}</p>`,
    };
  }
  // Every card is there from the start (empty ones hidden by CSS): a review written later has a place to arrive.
  const card = (id: string) => `<section class="card">${live(id, sections[id] ?? '')}</section>`;
  const body = ['head', 'decision', 'report', 'diff', 'images', 'reviews', 'flags'].map(card).join('\n');
  return { title, sections, body };
};
