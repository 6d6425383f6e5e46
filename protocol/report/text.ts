import { sessionLabel } from '../layout.js';
import type { BudgetLine, PictureColumn, ProtectionCheck, ReportData, ReportSession } from './model.js';

/** Wording shared by the HTML and Markdown reports, so both say the same thing. */

export const NOT_RECORDED = 'not recorded';

/** A measured number as people read it: 12 significant digits, so float noise (0.11499999999999999) is 0.115. */
export const readable = (v: number): string => String(Number(v.toPrecision(12)));

/** A decision's reason as the sessions table shows it: one line, at most `max` characters; null without one. */
export function reasonLine(reason: string | null, max = 160): string | null {
  const flat = (reason ?? '').replace(/\s+/g, ' ').trim();
  if (!flat) return null;
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export const valueText = (v: number | null | undefined): string =>
  v === null || v === undefined ? NOT_RECORDED : readable(v);

export const limitText = (line: BudgetLine): string => (line.limit === null ? '(no limit)' : `of ${line.limit}`);
export const budgetText = (line: BudgetLine): string => `${line.used ?? NOT_RECORDED} ${limitText(line)}`;

/** `+6.7131` from the baseline to the best, rounded to 4 decimals; null without both. */
export function gain(data: ReportData): { text: string; improved: boolean } | null {
  const base = data.baseline?.value;
  if (!data.best || base === null || base === undefined) return null;
  const delta = Number((data.best.value - base).toFixed(4));
  return { text: signed(delta), improved: data.direction === 'minimize' ? delta < 0 : delta > 0 };
}

export const signed = (n: number): string => `${n > 0 ? '+' : n < 0 ? '−' : '±'}${Math.abs(n)}`;

/** This session's value against the best before it: signed, rounded to 4 decimals. */
export function deltaVsBest(
  sessions: readonly ReportSession[],
  index: number,
  direction: 'maximize' | 'minimize',
): { text: string; better: boolean } | null {
  const row = sessions[index];
  const before = index > 0 ? sessions[index - 1]!.bestValue : null;
  if (!row || row.value === null || before === null) return null;
  const delta = Number((row.value - before).toFixed(4));
  return { text: signed(delta), better: direction === 'minimize' ? delta < 0 : delta > 0 };
}

export const columnTitle = (c: PictureColumn): string => `${c.roles.join(' · ')} — session ${sessionLabel(c.session)}`;

export const stopText = (data: ReportData): string =>
  data.stopReason ??
  (data.sources.some((s) => s.endsWith('FINAL_SUMMARY.md'))
    ? NOT_RECORDED
    : `${NOT_RECORDED} (no FINAL_SUMMARY.md: still running or stopped early)`);

export const folderKind = (data: ReportData): string =>
  data.protocolVersion ? data.protocolVersion : 'original skill folder (no protocol_version)';

/** Source files for the footer, per-session files folded into one entry (`sessions/session_NNN/decision.md ×12`). */
export function sourceGroups(sources: readonly string[]): { label: string; path: string | null }[] {
  const groups = new Map<string, string[]>();
  for (const s of sources) {
    const key = s.replace(/^loop_station\//, '').replace(/session_\d+/g, 'session_NNN');
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups].map(([key, paths]) =>
    paths.length > 1
      ? { label: `${key} ×${paths.length}`, path: null }
      : { label: paths[0]!.replace(/^loop_station\//, ''), path: paths[0]! },
  );
}

/** `2026-11-25T00:31:36.710Z` → `2026-11-25 00:31:36 UTC`; other text unchanged. */
export const timeText = (iso: string): string => {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
};

/**
 * The protection table of both reports: every criterion (the contract's, then any other one the
 * metrics checked) by the best session's checks and, when it is another one, the last session's.
 */
export function protectionGrid(
  data: ReportData,
  label: (which: 'best' | 'last', session: number) => string,
): { criteria: string[]; cols: { label: string; checks: ProtectionCheck[] }[] } {
  const { criteria, best, last } = data.protection;
  const all = [
    ...new Set([
      ...criteria,
      ...(best?.checks ?? []).map((c) => c.criterion),
      ...(last?.checks ?? []).map((c) => c.criterion),
    ]),
  ];
  const cols = [
    best ? { label: label('best', best.session), checks: best.checks } : null,
    last && last.session !== best?.session ? { label: label('last', last.session), checks: last.checks } : null,
  ].filter((c): c is { label: string; checks: ProtectionCheck[] } => c !== null);
  return { criteria: all, cols };
}
