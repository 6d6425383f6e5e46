import { formatElapsed, parseDuration } from '../duration.js';
import { parseDecisionBlock } from '../decision.js';
import { evidenceFailure } from '../evidence-output.js';
import {
  contractPath,
  finalSummaryPath,
  leaderboardPath,
  parseSessionFolder,
  sessionFilePath,
  sessionLabel,
  summaryPath,
} from '../layout.js';
import { parseHeaderLines, parseSections, sectionBody } from '../markdown.js';
import { readContract } from '../schemas/contract.js';
import { collectImages, pictures } from './images.js';
import type { BudgetLine, BuildReportOptions, Protection, ReportData, ReportFiles, ReportSession } from './model.js';
import {
  asNumber,
  asRecord,
  asString,
  asStrings,
  decisionRow,
  answeredDecision,
  ledgerAnswers,
  ledgerRows,
  leaderboardRows,
  merge,
  metricsPath,
  numberText,
  parseJson,
  protectionChecks,
  reviewsFromFiles,
  type RowDraft,
  sessionArtifacts,
  sessionText,
} from './sources.js';

/**
 * The model behind `loop-station report`, built from a loop folder's files alone (docs/protocol.md#layout,
 * §6, §8, §9). Lenient: engine folders and the original skill's folders alike; whatever is missing
 * stays null and the renderers say "not recorded".
 */

/** `better(a, b)`: a beats b in this direction. */
const better = (direction: 'maximize' | 'minimize') => (a: number, b: number) =>
  direction === 'minimize' ? a < b : a > b;

/** Reads the report model from a loop folder's files; never throws on missing or malformed pieces. */
export function buildReportData(files: ReportFiles, options: BuildReportOptions = {}): ReportData {
  const opts = {
    maxImageBytes: options.maxImageBytes ?? 2 * 1024 * 1024,
    maxEmbeddedBytes: options.maxEmbeddedBytes ?? 16 * 1024 * 1024,
  };
  const text = (path: string): string | undefined =>
    typeof files[path] === 'string' ? (files[path] as string) : undefined;
  const sources: string[] = [];
  const problems: string[] = [];
  const use = (path: string): string | undefined => {
    const t = text(path);
    if (t !== undefined && t.trim() !== '') sources.push(path);
    return t;
  };

  const contractText = use(contractPath);
  const contractView = contractText === undefined ? null : readContract(contractText).view;
  const raw = parseJson(contractText) ?? {};
  if (contractText !== undefined && contractView === null)
    problems.push('contract.json is not a JSON object: goal and budget not recorded');
  const goalRecord = asRecord(raw.goal);
  const budget = asRecord(raw.budget);
  const evidence = asRecord(raw.evidence);

  const finalSource = [finalSummaryPath, 'FINAL_SUMMARY.md'].find((path) => text(path) !== undefined) ?? null;
  const finalText = finalSource === null ? undefined : use(finalSource);
  const final = finalText ? parseHeaderLines(finalText) : {};
  const finalSections = finalText ? parseSections(finalText) : [];

  const sessionNumbers = new Set<number>();
  for (const path of Object.keys(files)) {
    const m = /^loop_station\/(?:sessions|reviews)\/([^/]+)\//.exec(path);
    const folder = m ? parseSessionFolder(m[1]!) : undefined;
    if (folder) sessionNumbers.add(folder.session);
  }

  const rows = new Map<number, RowDraft>();
  const boardText = use(leaderboardPath) ?? use('leaderboard.csv');
  const board = boardText ? leaderboardRows(boardText, contractView?.metric ?? null, problems) : [];
  // The engine writes a session's row only when it closes the session, whose folder it made first:
  // in an engine folder, a row past the last session folder is not the engine's (an agent's edit),
  // and not shown. (Rows among the folders stay: a copy of a loop may leave some folders out.)
  const last = Math.max(0, ...sessionNumbers);
  const engineFolder = 'protocol_version' in raw && sessionNumbers.size > 0;
  for (const r of board) {
    if (engineFolder && r.session > last) {
      problems.push(`leaderboard.csv: row ${sessionLabel(r.session)} is past the last session folder: not shown`);
      continue;
    }
    merge(rows, r);
  }

  let metric = contractView?.metric ?? board.find((r) => r.metric)?.metric ?? null;
  for (const session of [...sessionNumbers].sort((a, b) => a - b)) {
    const decision = use(sessionFilePath(session, 'decision'));
    if (decision !== undefined) {
      const row = decisionRow(decision, session);
      merge(rows, row);
      metric ??=
        parseHeaderLines(/```loop-station-decision\s*\n([\s\S]*?)```/.exec(decision)?.[1] ?? '').metric ?? null;
    }
  }
  const metricsOf = new Map<number, Record<string, unknown> | null>();
  const readMetrics = (session: number) => {
    if (!metricsOf.has(session)) metricsOf.set(session, parseJson(text(metricsPath(session))));
    return metricsOf.get(session)!;
  };
  for (const session of [0, ...sessionNumbers]) {
    const m = readMetrics(session);
    if (!m) continue;
    metric ??= asString(m.metric);
    const checks = protectionChecks(m);
    const protection: Protection | null =
      checks === null
        ? null
        : checks.every((c) => c.pass === true)
          ? 'pass'
          : checks.some((c) => c.pass === false)
            ? 'fail'
            : 'unknown';
    merge(rows, { session, value: asNumber(m.value), protection, ...(session === 0 ? { decision: 'baseline' } : {}) });
  }
  const ledger = use(summaryPath('sessionLedger'));
  if (ledger !== undefined) {
    const fromLedger = ledgerRows(ledger, metric);
    for (const r of fromLedger) merge(rows, r);
    metric ??= fromLedger.find((r) => r.metric)?.metric ?? null;
    // A held decision shows what the human's answer made of it, not only what it asked.
    for (const answer of ledgerAnswers(ledger)) {
      const row = rows.get(answer.session);
      if (row?.held) row.answer = answeredDecision(row.held, answer);
    }
  }
  for (const session of sessionNumbers) {
    const report = text(sessionFilePath(session, 'executorReport'));
    if (report !== undefined) merge(rows, { session, axis: asString(parseHeaderLines(report).axis ?? null) });
    merge(rows, { session, reviews: reviewsFromFiles(files, session) });
  }

  const direction = contractView?.direction ?? 'maximize';
  const beats = better(direction);
  const images = collectImages(files, opts);
  for (const session of images.keys())
    if (session === 0 && !rows.has(0)) merge(rows, { session: 0, decision: 'baseline' });

  // Best so far: as recorded, else carried from the values (protection not failing).
  let bestComputed = false;
  let running: { session: number; value: number } | null = null;
  const sessions: ReportSession[] = [...rows.values()]
    .sort((a, b) => a.session - b.session)
    .map((r) => {
      if (r.bestValue !== null && r.bestValue !== undefined) {
        running = { session: r.bestSession ?? running?.session ?? r.session, value: r.bestValue };
      } else if (
        r.value !== null &&
        r.value !== undefined &&
        r.protection !== 'fail' &&
        (running === null || beats(r.value, running.value))
      ) {
        running = { session: r.session, value: r.value };
        bestComputed = true;
      } else if (running !== null) bestComputed = true;
      const current = running as { session: number; value: number } | null;
      return {
        session: r.session,
        timestamp: r.timestamp ?? null,
        axis: r.axis ?? null,
        decision: r.decision ?? (r.session === 0 ? 'baseline' : null),
        answer: r.answer ?? null,
        value: r.value ?? null,
        bestSession: current?.session ?? null,
        bestValue: current?.value ?? null,
        protection: r.protection ?? null,
        reviews: r.reviews ?? [],
        reason: r.reason ?? null,
        artifacts: sessionArtifacts(files, r.session),
        images: images.get(r.session) ?? [],
      };
    });

  const lastRow = sessions.at(-1);
  const finalBestSession = sessionText(final.best_session);
  const finalBestValue = numberText(final.best_value);
  const best =
    finalBestSession !== null && finalBestValue !== null
      ? { session: finalBestSession, value: finalBestValue }
      : lastRow?.bestSession !== null && lastRow?.bestSession !== undefined && lastRow.bestValue !== null
        ? { session: lastRow.bestSession, value: lastRow.bestValue }
        : null;
  const baselineRow = sessions.find((s) => s.session === 0);

  const run = sessions.filter((s) => s.session > 0);
  const stamps = sessions.map((s) => (s.timestamp ? Date.parse(s.timestamp) : NaN)).filter(Number.isFinite);
  const spanMs = stamps.length > 1 ? Math.max(...stamps) - Math.min(...stamps) : null;
  const budgetLines: BudgetLine[] = [
    {
      label: 'sessions',
      used: final.sessions_used ?? (run.length ? String(run.length) : null),
      limit: asNumber(budget.max_sessions) === null ? null : String(budget.max_sessions),
    },
    {
      label: 'wall clock',
      used:
        humanSpan(final.wall_clock) ?? (spanMs === null ? null : `≈${formatElapsed(spanMs)} (leaderboard timestamps)`),
      limit: asString(budget.wall_time_limit),
    },
    {
      label: 'tokens',
      used: final.tokens ?? null,
      limit: asNumber(budget.token_limit) === null ? null : String(budget.token_limit),
    },
    {
      label: 'cost (USD)',
      used: final.cost_usd ?? null,
      limit: asNumber(budget.cost_limit) === null ? null : String(budget.cost_limit),
    },
  ];

  const lastDecision = [...sessions].reverse().find((s) => s.session > 0);
  const lastDecisionText = lastDecision ? text(sessionFilePath(lastDecision.session, 'decision')) : undefined;
  const stopFromDecision = lastDecisionText
    ? (parseDecisionBlock(lastDecisionText, { mode: 'original', session: lastDecision!.session }).block?.stop_reason ??
      null)
    : null;

  // The last evidence run, when it failed: why a loop may have no value at all.
  const lastMeasured = [...sessionNumbers, 0].sort((a, b) => b - a).find((n) => readMetrics(n) !== null);
  const lastMetrics = lastMeasured === undefined ? null : readMetrics(lastMeasured)!;
  const failure = lastMetrics
    ? evidenceFailure({
        error: asString(lastMetrics.error),
        value: asNumber(lastMetrics.value),
        metric: asString(lastMetrics.metric) ?? metric ?? 'metric',
        metrics: Object.fromEntries(
          Object.entries(asRecord(lastMetrics.metrics)).filter((e): e is [string, number] => typeof e[1] === 'number'),
        ),
        protection: (protectionChecks(lastMetrics) ?? []).map((c) => ({ ...c, pass: c.pass ?? false })),
      })
    : null;

  const checksFor = (session: number | undefined) => {
    if (session === undefined) return null;
    const checks = protectionChecks(readMetrics(session));
    return checks ? { session, checks } : null;
  };
  const amendments = Array.isArray(raw.amendments)
    ? raw.amendments.map((a) => {
        const r = asRecord(a);
        return `session ${typeof r.session === 'number' ? sessionLabel(r.session) : '?'}: ${asString(r.kind) ?? 'amendment'} ${asString(r.field) ?? ''} ${JSON.stringify(r.before ?? null)} → ${JSON.stringify(r.after ?? null)}${asString(r.note) ? ` (${r.note as string})` : ''}`.replace(
          /\s+/g,
          ' ',
        );
      })
    : [];

  return {
    loopName: asString(raw.loop_name) ?? final.loop ?? null,
    workflowId: asString(raw.workflow_id),
    protocolVersion: asString(raw.protocol_version),
    goal: asString(goalRecord.summary) ?? asString(raw.goal),
    metric,
    direction,
    directionRecorded: contractView?.direction !== null && contractView?.direction !== undefined,
    evidenceCommand: asString(evidence.command),
    budget: budgetLines,
    stopReason: final.stop_reason ?? stopFromDecision,
    stoppedAt: final.stopped_at ?? null,
    best,
    bestComputed: bestComputed && !(finalBestSession !== null && finalBestValue !== null),
    baseline: baselineRow ? { value: baselineRow.value, protection: baselineRow.protection } : null,
    evidenceError: failure === null ? null : { session: lastMeasured!, error: failure },
    sessions,
    successCriteria: asStrings(goalRecord.success_criteria),
    protection: {
      criteria: asStrings(goalRecord.protection_criteria),
      best: checksFor(best?.session),
      last: checksFor(run.at(-1)?.session),
    },
    ...interventionsOf([
      [summaryPath('sessionLedger'), ledger],
      [finalSource, finalText],
    ]),
    amendments,
    finalSections: finalSections.filter((s) => s.title.toLowerCase() !== 'interventions'),
    finalSource,
    pictures: pictures(images, best?.session ?? null),
    sources: [...new Set(sources)],
    problems,
  };
}

/** The first file with an Interventions section (the ledger, else the final summary) and that section. */
function interventionsOf(
  files: readonly [string | null, string | undefined][],
): Pick<ReportData, 'interventions' | 'interventionsSource'> {
  for (const [path, md] of files) {
    const body = path !== null && md !== undefined ? sectionBody(md, 'Interventions') : undefined;
    if (body !== undefined) return { interventions: body, interventionsSource: path };
  }
  return { interventions: null, interventionsSource: null };
}

/** FINAL_SUMMARY's exact `41s796ms` as people read it (`42s`); text that is no duration as it is. */
function humanSpan(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  return ms === undefined ? text : formatElapsed(ms);
}

/** The report's sessions less the baseline: what `report --json` counts. */
export const sessionsRun = (data: ReportData): number => data.sessions.filter((s) => s.session > 0).length;
