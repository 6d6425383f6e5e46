import { sessionLabel } from '../layout.js';
import { defuseLinks, inertHtml, rebaseLinks } from '../markdown-source.js';
import { relativeHref } from '../render/html-escape.js';
import { renderTable } from '../render/table.js';
import type { ProtectionCheck, ReportData, ReportImage } from './model.js';
import {
  budgetText,
  columnTitle,
  deltaVsBest,
  folderKind,
  gain,
  NOT_RECORDED,
  protectionGrid,
  readable,
  reasonLine,
  sourceGroups,
  stopText,
  timeText,
  valueText,
} from './text.js';

/** `loop-station report --format md`: the HTML report's content as Markdown; images stay files, linked. */

export interface MarkdownReportOptions {
  /** From the report file's folder to the loop root (`..` for loop_station/report.md); `''` when they are one. */
  hrefBase: string;
  generatedAt?: string;
  /** Title when contract.json names no loop (the root folder's name). @default loop */
  fallbackTitle?: string;
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled between the lowest and highest; `·` where there is none. */
export function sparkline(values: readonly (number | null)[], range?: readonly [number, number]): string {
  const present = values.filter((v): v is number => v !== null);
  if (!present.length) return values.map(() => '·').join('');
  const [lo, hi] = range ?? [Math.min(...present), Math.max(...present)];
  return values
    .map((v) => (v === null ? '·' : SPARKS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (SPARKS.length - 1))]!))
    .join('');
}

/** Text from the folder, made inert where a Markdown viewer would read HTML. */
const md = (text: string) => text.replace(/</g, '&lt;');
const link = (base: string, label: string, path: string) =>
  `[${label}](${relativeHref(base ? `${base}/${path}` : path)})`;

/** Markdown from a folder file, copied as written: raw HTML made inert, relative links re-based to this report. */
// Quoted files may come from an older engine or a hand-run folder: defused here as digests are.
const sourceText = (text: string, source: string | null, base: string) =>
  rebaseLinks(defuseLinks(inertHtml(text)), (source ?? '').split('/').slice(0, -1).join('/'), (path) =>
    relativeHref(base ? `${base}/${path}` : path),
  );

function trend(data: ReportData): string {
  const values = data.sessions.map((s) => s.value);
  const bests = data.sessions.map((s) => s.bestValue);
  const present = [...values, ...bests].filter((v): v is number => v !== null);
  if (!present.length) return `_no ${md(data.metric ?? 'metric')} values recorded_`;
  const range = [Math.min(...present), Math.max(...present)] as const;
  const first = data.sessions[0]!.session;
  const last = data.sessions.at(-1)!.session;
  return [
    `${md(data.metric ?? 'metric')} per session, ${data.direction === 'minimize' ? 'lower' : 'higher'} is better; bars span ${range[0]} … ${range[1]}.`,
    '',
    '```text',
    `value  ${sparkline(values, range)}`,
    `best   ${sparkline(bests, range)}`,
    `       ${sessionLabel(first)}${' '.repeat(Math.max(1, data.sessions.length - 6))}${sessionLabel(last)}`,
    '```',
  ].join('\n');
}

function checkText(check: ProtectionCheck | undefined): string {
  if (!check) return NOT_RECORDED;
  return `${check.value === null ? 'no value' : readable(check.value)} ${check.pass === null ? 'unknown' : check.pass ? 'pass' : 'fail'}`;
}

function protection(data: ReportData): string {
  const { criteria: all, cols } = protectionGrid(data, (which, n) => `${which} (session ${sessionLabel(n)})`);
  if (!all.length) return '_no protection criteria recorded_';
  if (!cols.length)
    return renderTable(
      ['criterion', 'status'],
      all.map((c) => [md(c), 'no metrics.json for the best or last session']),
    );
  return renderTable(
    ['criterion', ...cols.map((c) => c.label)],
    all.map((criterion) => [
      md(criterion),
      ...cols.map((c) => checkText(c.checks.find((k) => k.criterion === criterion))),
    ]),
  );
}

function pictures(data: ReportData, base: string): string {
  const pics = data.pictures;
  if (!pics) return '_no evidence images recorded_';
  const img = (i: ReportImage | null) =>
    i
      ? `![session ${sessionLabel(i.session)} ${i.name}](${relativeHref(base ? `${base}/${i.path}` : i.path)})`
      : 'no image';
  return renderTable(
    ['image', ...pics.columns.map(columnTitle)],
    pics.rows.map((r) => [
      md(r.name),
      ...(r.identical ? [img(r.cells[0]!), ...r.cells.slice(1).map(() => 'same')] : r.cells.map(img)),
    ]),
  );
}

export function renderReportMarkdown(data: ReportData, options: MarkdownReportOptions): string {
  const metric = data.metric ?? 'metric';
  const g = gain(data);
  const base = options.hrefBase;
  const summary = renderTable(
    ['', ''],
    [
      [
        'best',
        data.best
          ? `${data.best.value} (session ${sessionLabel(data.best.session)}${data.bestComputed ? ', computed' : ''})`
          : NOT_RECORDED,
      ],
      ...(data.evidenceError
        ? [
            [
              'evidence',
              `failed at session ${sessionLabel(data.evidenceError.session)}: ${md(data.evidenceError.error)}`,
            ],
          ]
        : []),
      [
        'baseline',
        data.baseline
          ? `${valueText(data.baseline.value)}${data.baseline.protection ? ` (protection ${data.baseline.protection})` : ''}`
          : NOT_RECORDED,
      ],
      ['change', g ? g.text : NOT_RECORDED],
      ['stop reason', `${stopText(data)}${data.stoppedAt ? ` (${timeText(data.stoppedAt)})` : ''}`],
      ...data.budget.map((b) => [b.label, budgetText(b)]),
    ],
  );
  const rows = data.sessions.map((s, i) => {
    const d = deltaVsBest(data.sessions, i, data.direction);
    return [
      `${sessionLabel(s.session)}${data.best?.session === s.session ? ' ★' : ''}`,
      s.axis ?? (s.session === 0 ? '-' : 'default'),
      `${s.decision ?? NOT_RECORDED}${s.answer ? ` ${s.answer}` : ''}`,
      reasonLine(s.reason) ?? '-',
      valueText(s.value),
      d?.text ?? '-',
      s.bestValue === null
        ? NOT_RECORDED
        : `${s.bestValue}${s.bestSession !== null ? ` (${sessionLabel(s.bestSession)})` : ''}`,
      s.protection ?? NOT_RECORDED,
      s.reviews.length ? s.reviews.map((r) => `${r.agent}:${r.verdict}`).join(' ') : '-',
      s.artifacts.map((a) => link(base, a.label, a.path)).join(' · '),
    ].map((c) => md(c));
  });
  const parts = [
    `# ${md(data.loopName ?? options.fallbackTitle ?? 'loop')} — loop-station report`,
    '',
    `goal: ${data.goal ? md(data.goal).replace(/\s+/g, ' ') : 'goal not recorded'}`,
    '',
    `evidence: ${data.direction} **${md(metric)}**${data.directionRecorded ? '' : ' (direction not recorded: assumed)'}${data.evidenceCommand ? ` via \`${data.evidenceCommand.replace(/`/g, "'")}\`` : ''}`,
    '',
    summary,
    '',
    '## Trend',
    '',
    trend(data),
    '',
    '## Sessions',
    '',
    data.sessions.length
      ? renderTable(
          [
            'session',
            'axis',
            'decision',
            'why',
            metric,
            'Δ vs best',
            'best so far',
            'protection',
            'reviews',
            'artifacts',
          ],
          rows,
        )
      : '_no sessions recorded_',
    '',
    '## Protection criteria',
    '',
    protection(data),
    ...(data.successCriteria.length
      ? ['', `success criteria: ${data.successCriteria.map((c) => `\`${c}\``).join(', ')}`]
      : []),
    '',
    '## Pictures',
    '',
    pictures(data, base),
    '',
    '## Interventions',
    '',
    data.interventions === null ? NOT_RECORDED : sourceText(data.interventions, data.interventionsSource, base),
    ...(data.amendments.length ? ['', '### Contract amendments', '', ...data.amendments.map((a) => `- ${md(a)}`)] : []),
    '',
    '## Final summary',
    '',
    data.finalSections.length
      ? data.finalSections
          .map((s) => `### ${md(s.title)}\n\n${sourceText(s.body, data.finalSource, base) || NOT_RECORDED}`)
          .join('\n\n')
      : '_no FINAL_SUMMARY.md: the loop is still running or stopped before writing it_',
    '',
    ...(data.problems.length ? ['## Reading notes', '', ...data.problems.map((p) => `- ${md(p)}`), ''] : []),
    '---',
    '',
    `${data.workflowId ? `workflow \`${data.workflowId}\` · ` : ''}${folderKind(data)}${options.generatedAt ? ` · generated ${options.generatedAt}` : ''} · from ${
      sourceGroups(data.sources)
        .map((g) => (g.path ? link(base, g.label, g.path) : g.label))
        .join(', ') || 'no readable files'
    }`,
    '',
  ];
  return parts.join('\n');
}
