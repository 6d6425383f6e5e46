import { parseDecisionBlock } from '../decision.js';
import { loopStationDir, reviewsRoot, sessionFilePath, sessionLabel } from '../layout.js';
import { parseHeaderLines, sectionBody } from '../markdown.js';
import { parseFirstTable } from '../render/table.js';
import { parseCsv, parseLeaderboard } from '../schemas/leaderboard.js';
import type { Protection, ProtectionCheck, ReportFiles, ReportLink, ReportReview } from './model.js';

/**
 * The report's readers, one per source, each lenient: leaderboard.csv (strict, else by column
 * names), SESSION_LEDGER.md, decision.md, metrics.json, review files. Each gives row drafts that
 * buildReportData merges, the first source to know a field winning.
 */

export const asRecord = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
export const asString = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
export const asNumber = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const asStrings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
export const numberText = (v: string | undefined): number | null =>
  v !== undefined && /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(v.trim()) ? Number(v.trim()) : null;
export const sessionText = (v: string | undefined): number | null => {
  const m = v === undefined ? null : /(\d+)/.exec(v);
  return m ? Number(m[1]) : null;
};
const protectionText = (v: unknown): Protection | null => (v === 'pass' || v === 'fail' || v === 'unknown' ? v : null);

export function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export interface RowDraft {
  session: number;
  timestamp?: string | null;
  axis?: string | null;
  decision?: string | null;
  value?: number | null;
  bestSession?: number | null;
  bestValue?: number | null;
  protection?: Protection | null;
  reviews?: ReportReview[];
  reason?: string | null;
  metric?: string | null;
  /** A human's answer to the held decision (answeredDecision). */
  answer?: string | null;
  /** A decision held for a human: what an approve and a deny apply (decisionRow, for answeredDecision). */
  held?: HeldDecision | null;
}

/** A decision.md block with `approval: pending`: its class and what each answer applies. */
export interface HeldDecision {
  class: string;
  onApprove: string | null;
  onDeny: string | null;
}

/** Fills a row's unset fields from a later source: the first source to know a field wins. */
export function merge(rows: Map<number, RowDraft>, draft: RowDraft): void {
  const row = rows.get(draft.session) ?? { session: draft.session };
  for (const [key, value] of Object.entries(draft) as [keyof RowDraft, unknown][]) {
    const empty = value === null || value === undefined || (Array.isArray(value) && value.length === 0);
    const current = row[key];
    const unset = current === null || current === undefined || (Array.isArray(current) && current.length === 0);
    if (!empty && unset) (row as unknown as Record<string, unknown>)[key] = value;
  }
  rows.set(draft.session, row);
}

const reviewTokens = (tokens: readonly string[]): ReportReview[] =>
  tokens.map((t) => {
    const i = t.lastIndexOf(':');
    return i < 0 ? { agent: t, verdict: 'not recorded' } : { agent: t.slice(0, i), verdict: t.slice(i + 1) };
  });

/** leaderboard.csv as the engine writes it, else by column names (the original's looser CSVs). */
export function leaderboardRows(text: string, metric: string | null, problems: string[]): RowDraft[] {
  const parsed = parseLeaderboard(text);
  if (parsed.rows.length || !parsed.problems.some((p) => p.startsWith('line 1:'))) {
    problems.push(...parsed.problems.map((p) => `leaderboard.csv ${p}`));
    return parsed.rows.map((r) => ({
      session: r.session,
      timestamp: r.timestamp,
      axis: r.axis,
      decision: r.class,
      value: r.value,
      bestSession: r.best_session,
      bestValue: r.best_value,
      protection: r.protection,
      reviews: reviewTokens(r.reviews),
      metric: r.metric,
    }));
  }
  const [header = [], ...records] = parseCsv(text);
  const names = header.map((h) => h.trim().toLowerCase());
  const col = (...want: string[]) => names.findIndex((n) => want.includes(n));
  const at = (cells: string[], i: number) => (i < 0 ? undefined : cells[i]?.trim());
  const [s, ts, ax, cls, val, prot, bs, bv, rev, met] = [
    col('session', 'session_id', 'nnn'),
    col('timestamp', 'time', 'date'),
    col('axis'),
    col('class', 'decision'),
    col('value', 'metric_value', 'score', (metric ?? 'value').toLowerCase()),
    col('protection'),
    col('best_session'),
    col('best_value', 'best'),
    col('reviews', 'verdicts'),
    col('metric'),
  ];
  if (s < 0) {
    problems.push('leaderboard.csv has no session column: rows skipped');
    return [];
  }
  problems.push('leaderboard.csv does not have the engine header: read by column names');
  return records.flatMap((cells) => {
    const session = sessionText(at(cells, s));
    if (session === null) return [];
    return [
      {
        session,
        timestamp: at(cells, ts) || null,
        axis: at(cells, ax) || null,
        decision: at(cells, cls) || null,
        value: numberText(at(cells, val)),
        protection: protectionText(at(cells, prot)),
        bestSession: sessionText(at(cells, bs)),
        bestValue: numberText(at(cells, bv)),
        reviews: reviewTokens((at(cells, rev) ?? '').split(/\s+/).filter(Boolean)),
        metric: at(cells, met) || null,
      },
    ];
  });
}

/** `psnr=28.2 (protection pass)` → psnr 28.2 for the named metric, else the first `name=number`, else a bare number. */
export function metricFromCell(cell: string, metric: string | null): { name: string | null; value: number } | null {
  const num = '(-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?)';
  if (metric) {
    const m = new RegExp(
      `(?:^|[^A-Za-z0-9_])${metric.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*[=:]\\s*${num}`,
      'i',
    ).exec(cell);
    if (m) return { name: metric, value: Number(m[1]) };
  }
  const any = new RegExp(`([A-Za-z_][A-Za-z0-9_]*)\\s*[=:]\\s*${num}`, 'i').exec(cell);
  if (any) return { name: any[1]!, value: Number(any[2]) };
  const bare = numberText(cell);
  return bare === null ? null : { name: null, value: bare };
}

/** A human's answer to a held decision, as the engine's ledger lists it (`… approve (update by x): session 1 as retire`). */
export interface LedgerAnswer {
  session: number;
  kind: 'approve' | 'deny';
  /** The class an approve named (`--decision`); null: the one the decision held. */
  as: string | null;
}

const ANSWER_RE = /\bsession \d+ (approve|deny) \([^)]*\): session (\d+)(?: as ([a-z_]+))?/;

/** The approve and deny answers of the ledger's interventions, in order. */
export function ledgerAnswers(md: string): LedgerAnswer[] {
  return md.split(/\r?\n/).flatMap((line) => {
    const m = ANSWER_RE.exec(line);
    return m ? [{ session: Number(m[2]), kind: m[1] as 'approve' | 'deny', as: m[3] ?? null }] : [];
  });
}

/** What a held decision did once answered, after its class: `→ retire (approved)`, `→ keep (denied)`, `(approved)`. */
export function answeredDecision(held: HeldDecision, answer: LedgerAnswer): string {
  const applied = answer.kind === 'approve' ? (answer.as ?? held.onApprove ?? held.class) : (held.onDeny ?? 'keep');
  const how = answer.kind === 'approve' ? 'approved' : 'denied';
  return applied === held.class ? `(${how})` : `→ ${applied} (${how})`;
}

/** The ledger's session table (§8), by column names: the original's tables differ. */
export function ledgerRows(md: string, metric: string | null): RowDraft[] {
  const table = parseFirstTable(sectionBody(md, 'Sessions') ?? md);
  if (!table) return [];
  const names = table.header.map((h) => h.trim().toLowerCase());
  const find = (re: RegExp) => names.findIndex((n) => re.test(n));
  const [s, dec, met, vis, ax] = [
    find(/^session/),
    find(/decision|class/),
    find(/metric|value|score/),
    find(/visual|verdict/),
    find(/axis/),
  ];
  if (s < 0) return [];
  return table.rows.flatMap((cells) => {
    const session = sessionText(cells[s]);
    if (session === null) return [];
    const cell = (i: number) => (i < 0 || cells[i] === undefined || cells[i] === '-' ? undefined : cells[i]);
    const metrics = cell(met);
    const prot = metrics ? /protection\s+(pass|fail|unknown)/i.exec(metrics)?.[1]?.toLowerCase() : undefined;
    const found = metrics ? metricFromCell(metrics, metric) : null;
    return [
      {
        session,
        decision: cell(dec) ?? null,
        value: found?.value ?? null,
        metric: found?.name ?? null,
        axis: cell(ax) ?? null,
        protection: protectionText(prot),
        reviews: reviewTokens((cell(vis) ?? '').split(/\s+/).filter((t) => t.includes(':'))),
      },
    ];
  });
}

/** decision.md: the block (lenient, as the original wrote it), else `key: value` header lines. */
export function decisionRow(md: string, session: number): RowDraft {
  const { block } = parseDecisionBlock(md, { mode: 'original', session });
  if (block) {
    return {
      session,
      axis: block.axis,
      decision: block.class,
      value: block.value,
      bestSession: block.best_session,
      bestValue: block.best_value,
      protection: block.protection === 'unknown' ? null : block.protection,
      reviews: block.reviews,
      reason: block.reason,
      held:
        block.approval === 'pending'
          ? { class: block.class, onApprove: block.on_approve, onDeny: block.on_deny }
          : null,
    };
  }
  const fence = /```loop-station-decision\s*\n([\s\S]*?)```/.exec(md)?.[1] ?? '';
  const header = { ...parseHeaderLines(md), ...parseHeaderLines(fence) };
  return {
    session,
    decision: header.class ?? header.decision ?? null,
    value: numberText(header.value),
    axis: header.axis ?? null,
    bestValue: numberText(header.best_value),
    bestSession: sessionText(header.best_session),
    reason: header.reason ?? null,
  };
}

export function protectionChecks(metrics: Record<string, unknown> | null): ProtectionCheck[] | null {
  if (!metrics || !Array.isArray(metrics.protection)) return null;
  return metrics.protection.map((p) => {
    const r = asRecord(p);
    return {
      criterion: asString(r.criterion) ?? 'not recorded',
      value: asNumber(r.value),
      pass: typeof r.pass === 'boolean' ? r.pass : null,
    };
  });
}

/** Where a session's metrics.json lives: the baseline's in its variant (§7), others in the session folder. */
export const metricsPath = (session: number) =>
  session === 0
    ? `${loopStationDir}/code_variants/session_000/baseline/metrics.json`
    : sessionFilePath(session, 'metrics');

export function sessionArtifacts(files: ReportFiles, session: number): ReportLink[] {
  const links: ReportLink[] = [];
  const add = (label: string, path: string) => {
    if (path in files) links.push({ label, path });
  };
  if (session === 0) {
    add('metrics', metricsPath(0));
    add('baseline', `${loopStationDir}/code_variants/session_000/baseline/README.md`);
    return links;
  }
  add('report', sessionFilePath(session, 'executorReport'));
  add('decision', sessionFilePath(session, 'decision'));
  add('metrics', sessionFilePath(session, 'metrics'));
  const reviewDir = `${reviewsRoot}/session_${sessionLabel(session)}/`;
  const reviews = Object.keys(files)
    .filter((p) => p.startsWith(reviewDir) && p.endsWith('.md'))
    .sort();
  for (const path of reviews) {
    const name = path.slice(reviewDir.length);
    const m = /^(.+?)-SESSION\d+-([A-Z_]+)-([A-Z_]+)\.md$/.exec(name);
    const who = reviews.length > 1 ? ` ${m ? m[1]! : name}` : '';
    add(`review${who}${m && m[3] !== 'DONE' ? ` (${m[3]!.toLowerCase()})` : ''}`, path);
  }
  add('flags', sessionFilePath(session, 'reviewFlags'));
  return links;
}

/** Reviewers' verdicts from the review files, when neither leaderboard nor decision lists them. */
export function reviewsFromFiles(files: ReportFiles, session: number): ReportReview[] {
  const dir = `${reviewsRoot}/session_${sessionLabel(session)}/`;
  return Object.keys(files)
    .filter((p) => p.startsWith(dir) && p.endsWith('.md'))
    .sort()
    .flatMap((path) => {
      const text = files[path];
      const m = /^(.+?)-SESSION\d+-[A-Z_]+-([A-Z_]+)\.md$/.exec(path.slice(dir.length));
      const header = typeof text === 'string' ? parseHeaderLines(text) : {};
      const agent = header.agent ?? m?.[1];
      if (!agent) return [];
      const status = (header.status ?? m?.[2] ?? '').toUpperCase();
      const verdict =
        status === 'BLOCKED' || status === 'ABSTAIN' ? status.toLowerCase() : (header.verdict ?? 'not recorded');
      return [{ agent, verdict }];
    });
}
