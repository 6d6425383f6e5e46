import { escapeHtml } from '../../protocol/render/html-escape.js';
import { timeText } from '../../protocol/report/text.js';
import { DECISION_STYLES, decisionClassName, decisionStyle } from '../../protocol/report/trend-chart.js';
import type { LoopFiles } from '../loop-files.js';
import type { LoopSource } from '../temporal-source.js';

/**
 * What every page shares: its context, its shape (named live sections inside a body) and the small
 * HTML helpers. Every text that comes from a loop (names, notes, agent output) goes through `esc`.
 */

export interface PageContext {
  source: LoopSource;
  files: LoopFiles;
  now(): number;
}

export interface Page {
  title: string;
  /** 404 for a loop that does not exist; the page still renders. */
  status?: number;
  /** Live parts by id: the events stream sends the ones that changed. */
  sections: Record<string, string>;
  /** The page's main content, holding every section through `live()`. */
  body: string;
  /** The events stream looks again no sooner than this (a list of many loops costs more than one loop). */
  minRefreshMs?: number;
}

export type PageHandler = (ctx: PageContext, params: readonly string[], query: URLSearchParams) => Promise<Page>;

export const esc = escapeHtml;

/** A part of the page the events stream replaces when its HTML changes. */
export const live = (id: string, html: string): string =>
  `<div class="live" id="live-${id}" data-live="${id}">${html}</div>`;

export const muted = (text: string): string => `<span class="muted">${esc(text)}</span>`;

export const label3 = (n: number): string => String(n).padStart(3, '0');

/** `/loops/<id>`, the id percent-encoded (a workflow id may hold any character). */
export const loopHref = (workflowId: string): string => `/loops/${encodeURIComponent(workflowId)}`;
export const sessionHref = (workflowId: string, session: number): string =>
  `${loopHref(workflowId)}/sessions/${session}`;

/**
 * A time the script shows as "12s ago", ticking; the HTML itself holds the exact time, so a section
 * changes only when the time does (the events stream sends changed sections only).
 */
export function timeAgo(iso: string | null): string {
  if (!iso) return muted('—');
  return `<time datetime="${esc(iso)}" data-ago title="${esc(iso)}">${esc(timeText(iso))}</time>`;
}

/** A running clock from `iso` (elapsed time of a run), ticked by the script. */
export function elapsedSince(iso: string | null): string {
  if (!iso) return muted('—');
  return `<time datetime="${esc(iso)}" data-since title="since ${esc(iso)}">since ${esc(timeText(iso))}</time>`;
}

/** A phase or run status as a small coloured label. */
export function phaseBadge(phase: string | null, runStatus?: string): string {
  const text = phase ?? runStatus?.toLowerCase() ?? 'unknown';
  const kind =
    runStatus && runStatus !== 'RUNNING' && runStatus !== 'COMPLETED'
      ? 'bad'
      : phase === 'finished' || runStatus === 'COMPLETED'
        ? 'done'
        : phase === 'awaiting_approval' ||
            phase === 'paused' ||
            phase === 'usage_wait' ||
            phase === 'retry_wait' ||
            phase === 'blocked'
          ? 'wait'
          : 'run';
  return `<span class="phase phase-${kind}">${esc(text.replace(/_/g, ' '))}</span>`;
}

/** A decision class in its chart colour (the colours come from decisionCss: no inline styles under the CSP). */
export const decisionBadge = (decision: string | null): string =>
  `<span class="badge badge-${decisionClassName(decision)}">${esc(decision ?? 'not recorded')}</span>`;

/** One rule per decision class, from the chart's own colours, appended to the stylesheet. */
export const decisionCss = (): string =>
  [...Object.keys(DECISION_STYLES), null]
    .map((d) => `.badge-${decisionClassName(d)}{--c:${decisionStyle(d).color}}`)
    .join('\n');

export const num = (v: number | null | undefined): string =>
  v === null || v === undefined ? muted('—') : esc(String(Number(v.toPrecision(8))));

/** A page for a loop that is not there (or a session that is not). */
export function notFound(title: string, message: string): Page {
  const body = `<section class="card"><h1>${esc(title)}</h1><p>${esc(message)}</p><p><a href="/">All loops</a></p></section>`;
  return { title, status: 404, sections: {}, body };
}
