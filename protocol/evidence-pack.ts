import { type EvidencePackFile, evidencePackPath, sessionLabel } from './layout.js';
import { DEFAULT_AXIS } from './loop-progress.js';
import { bullets, num, renderTable } from './render/table.js';
import type { LeaderboardRow } from './schemas/leaderboard.js';
import { beats } from './supervisor-rules.js';
import type { AxisState, EvidenceResult, Metrics } from './schemas/state.js';
import type { FileDiff } from './variant-diff.js';

/**
 * The evidence pack (docs/protocol.md#evidence-pack): what the supervisor and the reviewers of a
 * session look at, written by the engine before they run, under sessions/session_NNN/evidence_pack/.
 * Pure renderers of the data activities/evidence-pack.ts gathers; every part is bounded.
 */

/** How much of each thing a pack holds; the index says so. */
export const PACK_LIMITS = {
  /** Files listed per diff; the rest are counted. */
  diffFiles: 40,
  /** A file larger than this is named in a diff, not inlined. */
  diffFileBytes: 256 * 1024,
  /** Characters of one .patch file; cut at a file boundary. */
  patchChars: 120 * 1024,
  /** Lines and bytes of each log tail. */
  logLines: 60,
  logBytes: 8 * 1024,
  /** Image pairs listed in images.md. */
  imagePairs: 24,
  /** Images handed to an agent run as image input (candidate and best of the first pairs). */
  attachImages: 8,
  attachImageBytes: 5 * 1024 * 1024,
  /** Leaderboard rows in metrics.md (the latest). */
  historyRows: 100,
  /** Earlier sessions on the axis whose reviews are quoted, and characters of each quote. */
  reviewSessions: 8,
  reviewChars: 800,
  /**
   * Earlier sessions on the axis looked at for those reviews, the latest first: a loop without
   * reviewers would otherwise list every session's review folder at every session (a 1000-session
   * loop's last sessions took a third longer).
   */
  reviewLookback: 40,
} as const;

export interface PackDiff {
  /** What the candidate is compared with: `the best (session 003)`, `the previous session (004)`. */
  against: string;
  /** Root-relative variant folders compared; null when a side has none. */
  from: string | null;
  to: string | null;
  /** Why nothing was compared (no candidate, the same variant); null when files were. */
  missing: string | null;
  files: FileDiff[];
}

export interface PackImage {
  /** Path under the session's evidence folder: the pairing key. */
  name: string;
  /** Root-relative paths: this session's image, and the best session's at the same name (null: none). */
  candidate: string;
  best: string | null;
  bytes: number;
}

export interface PackLog {
  title: string;
  /** Root-relative path of the full log. */
  path: string;
  lines: string[];
  truncated: boolean;
  missing: boolean;
}

export interface PackReview {
  session: number;
  agent: string;
  verdict: string;
  recommendation: string;
  /** The class that session was decided, from the leaderboard. */
  decision: string | null;
  file: string;
  /** The review's Recommended Next Action, shortened. */
  nextAction: string;
  /** Its session is one of EvidencePackData.carried (quoted whatever its axis). */
  carried: boolean;
}

export interface EvidencePackData {
  session: number;
  axis: string;
  metric: string;
  direction: 'maximize' | 'minimize';
  command: string;
  best: { session: number; value: number; metrics: Metrics } | null;
  /** This session's metrics.json; null when the evidence did not run. */
  current: EvidenceResult | null;
  history: readonly LeaderboardRow[];
  axes: readonly AxisState[];
  diffs: { best: PackDiff; previous: PackDiff };
  /**
   * Earlier sessions, the latest first, that were not promoted and whose changes the candidate still
   * holds (its workspace was not restored since): their changes are in the diff against the best.
   */
  carried: readonly number[];
  images: readonly PackImage[];
  /** Images beyond PACK_LIMITS.imagePairs, counted but not listed. */
  imagesLeftOut: number;
  /** Kept artifacts that are not images (root-relative). */
  otherArtifacts: readonly string[];
  logs: readonly PackLog[];
  reviews: readonly PackReview[];
}

const kib = (n: number) => (n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${Math.round(n / 1024)} KiB`);
const bestLabel = (best: EvidencePackData['best']) =>
  best
    ? best.session === 0
      ? 'the baseline (session 000)'
      : `the best (session ${sessionLabel(best.session)})`
    : null;

/** The images a run is given as image input: candidate then best, pair by pair, small enough, at most attachImages. */
export function packImagesToAttach(images: readonly PackImage[]): string[] {
  const out: string[] = [];
  for (const image of images) {
    if (image.bytes > PACK_LIMITS.attachImageBytes) continue;
    for (const path of [image.candidate, image.best]) if (path && out.length < PACK_LIMITS.attachImages) out.push(path);
  }
  return out;
}

/** A .patch file: `#` comment lines, then unified diffs whose paths are relative to the root. */
export function renderPackPatch(session: number, diff: PackDiff): string {
  const head = [
    `# Evidence pack, session ${sessionLabel(session)}: the candidate against ${diff.against}`,
    `# ${diff.from ?? '(none)'} -> ${diff.to ?? '(none)'}`,
    '# Paths are relative to the loop root; binary or large files are named, not inlined.',
  ];
  if (diff.missing) return `${[...head, `# Nothing compared: ${diff.missing}`].join('\n')}\n`;
  if (!diff.files.length) return `${[...head, '# No workspace file differs.'].join('\n')}\n`;
  const parts: string[] = [];
  let size = 0;
  for (const [i, f] of diff.files.entries()) {
    const text = f.patch ?? `# ${f.path}: ${f.note ?? 'not shown'}`;
    if (size + text.length > PACK_LIMITS.patchChars) {
      const rest = diff.files.slice(i).map((r) => r.path);
      parts.push(`# Cut at ${kib(PACK_LIMITS.patchChars)}; not shown: ${rest.join(', ')}`);
      break;
    }
    parts.push(f.patch && f.note ? `# ${f.path}: ${f.note}\n${text}` : text);
    size += text.length;
  }
  return `${[...head, '', ...parts].join('\n')}\n`;
}

function metricsTable(data: EvidencePackData): string {
  const current = data.current?.metrics ?? {};
  const best = data.best?.metrics ?? {};
  const names = [...new Set([data.metric, ...Object.keys(current), ...Object.keys(best)])];
  const rows = names.map((m) => {
    const a = current[m];
    const b = best[m];
    return [
      m === data.metric ? `**${m}**` : m,
      num(a),
      num(b),
      a !== undefined && b !== undefined ? num(+(a - b).toPrecision(6)) : '-',
    ];
  });
  return renderTable(
    ['metric', `this session (${sessionLabel(data.session)})`, bestLabel(data.best) ?? 'best (none yet)', 'change'],
    rows,
  );
}

/** The axis a leaderboard row's session worked on, as the loop counts it (`default` without one). */
export const axisOf = (row: Pick<LeaderboardRow, 'axis'>): string => row.axis?.trim() || DEFAULT_AXIS;

/**
 * The best value among the sessions on `axis` that were promoted: those whose leaderboard row names
 * themselves as the best after their decision. An axis's own best (AxisState.bestValue) is the best
 * any of its sessions measured, a vetoed one too, so it is not what the loop kept.
 */
function bestPromoted(data: EvidencePackData, axis: string): { session: number; value: number } | null {
  let found: { session: number; value: number } | null = null;
  for (const r of data.history) {
    if (r.session === 0 || axisOf(r) !== axis || r.best_session !== r.session || r.value === null) continue;
    if (beats(data.direction, 0, r.value, found?.value ?? null)) found = { session: r.session, value: r.value };
  }
  return found;
}

export function renderPackMetrics(data: EvidencePackData): string {
  const c = data.current;
  const rows = data.history
    .slice(-PACK_LIMITS.historyRows)
    .map((r) => [
      sessionLabel(r.session),
      r.axis ?? '-',
      r.class,
      num(r.value),
      r.protection,
      r.best_session === null ? '-' : `${num(r.best_value)} (${sessionLabel(r.best_session)})`,
      r.reviews.join(' ') || '-',
    ]);
  return [
    `# Metric history — session ${sessionLabel(data.session)}`,
    '',
    `Metric \`${data.metric}\` (${data.direction}), measured by \`${data.command}\` from the loop root. This session works on axis \`${data.axis}\`.`,
    '',
    '## This Session Against The Best',
    '',
    c === null
      ? 'The evidence did not run this session.'
      : [
          metricsTable(data),
          '',
          bullets(
            [
              ...(c.error ? [`evidence error: ${c.error}`] : []),
              ...c.protection.map((p) => `protection ${p.criterion}: ${p.pass ? 'pass' : 'FAIL'} (${num(p.value)})`),
            ],
            'no protection criteria',
          ),
        ].join('\n'),
    '',
    '## Sessions',
    '',
    ...(data.history.length > PACK_LIMITS.historyRows
      ? [
          `The latest ${PACK_LIMITS.historyRows} of ${data.history.length} sessions (all are in loop_station/leaderboard.csv).`,
          '',
        ]
      : []),
    renderTable(['session', 'axis', 'class', data.metric, 'protection', 'best so far', 'reviews'], rows),
    '',
    '## Axes',
    '',
    data.axes.length
      ? [
          'Best promoted: the best value of a session on the axis that became the best. Best measured: the best value any session on the axis measured, promoted or not (a vetoed or reverted one too).',
          '',
          renderTable(
            ['axis', 'sessions', 'plateau', 'retired', 'best promoted', 'best measured'],
            data.axes.map((a) => {
              const kept = bestPromoted(data, a.name);
              return [
                a.name,
                a.sessions,
                a.plateau,
                a.retired
                  ? `yes (session ${a.retiredAtSession === null ? '-' : sessionLabel(a.retiredAtSession)})`
                  : 'no',
                kept ? `${num(kept.value)} (${sessionLabel(kept.session)})` : 'none',
                num(a.bestValue),
              ];
            }),
          ),
        ].join('\n')
      : 'No axis has closed a session yet.',
    '',
  ].join('\n');
}

export function renderPackImages(data: EvidencePackData): string {
  const best = bestLabel(data.best);
  const lines = [
    `# Images — session ${sessionLabel(data.session)}`,
    '',
    "The images this session's evidence wrote (its evidence folder, with copies of the files the spec's `evidence.artifacts` match under `artifacts/`), each beside the image of the same name from " +
      `${best ?? 'the best session (there is none yet)'}. Open both of a pair and compare them: what improved, what regressed, whether the picture agrees with the metric.`,
    '',
  ];
  if (!data.images.length) lines.push('No images this session.');
  else
    lines.push(
      renderTable(
        ['image', `this session (${sessionLabel(data.session)})`, best ?? 'best'],
        data.images.map((i) => [i.name, `\`${i.candidate}\``, i.best ? `\`${i.best}\`` : 'none']),
      ),
    );
  if (data.imagesLeftOut)
    lines.push(
      '',
      `${data.imagesLeftOut} more images are in the evidence folder, not listed (limit ${PACK_LIMITS.imagePairs}).`,
    );
  if (data.otherArtifacts.length)
    lines.push('', '## Other Artifacts', '', bullets(data.otherArtifacts.map((p) => `\`${p}\``)));
  return `${lines.join('\n')}\n`;
}

export function renderPackLogs(data: EvidencePackData): string {
  const lines = [
    `# Logs — session ${sessionLabel(data.session)}`,
    '',
    'The last lines of each; open the full log at its path when they are not enough.',
    '',
  ];
  for (const log of data.logs) {
    lines.push(`## ${log.title}`, '', `Full log: \`${log.path}\``, '');
    if (log.missing) lines.push('(no such log)', '');
    else if (!log.lines.length) lines.push('(empty)', '');
    else
      lines.push(
        log.truncated ? `Last ${log.lines.length} lines:` : 'Whole log:',
        '',
        '```text',
        ...log.lines.map((l) => l.replace(/```/g, "'''")),
        '```',
        '',
      );
  }
  return lines.join('\n');
}

/** A table of reviews, then what each asked for next, under headings of level `depth` and below. */
function reviewList(reviews: readonly PackReview[], depth: number): string[] {
  const lines = [
    renderTable(
      ['session', 'reviewer', 'verdict', 'recommendation', 'decided'],
      reviews.map((r) => [sessionLabel(r.session), r.agent, r.verdict, r.recommendation, r.decision ?? '-']),
    ),
    '',
    `${'#'.repeat(depth)} What They Asked For Next`,
    '',
  ];
  for (const r of reviews)
    lines.push(
      `${'#'.repeat(depth + 1)} Session ${sessionLabel(r.session)}, ${r.agent}`,
      '',
      `From \`${r.file}\`:`,
      '',
      r.nextAction.trim() || '(no Recommended Next Action)',
      '',
    );
  return lines;
}

export function renderPackReviews(data: EvidencePackData): string {
  const lines = [`# Earlier reviews on axis \`${data.axis}\` — before session ${sessionLabel(data.session)}`, ''];
  const onAxis = data.reviews.filter((r) => !r.carried);
  if (!data.carried.length) {
    if (!onAxis.length) return `${[...lines, 'No earlier session on this axis was reviewed.'].join('\n')}\n`;
    return [...lines, ...reviewList(onAxis, 2)].join('\n');
  }
  const carried = data.reviews.filter((r) => r.carried);
  const labels = data.carried.map(sessionLabel).join(', ');
  lines.push(
    '## Changes This Candidate Carries',
    '',
    `The diff against the best (\`${evidencePackPath(data.session, 'diffBest')}\`) also holds the changes of ${data.carried.length === 1 ? 'session' : 'sessions'} ${labels}: not promoted, and the workspace was not restored to the best since. Their reviews, whatever their axis, judged those changes: a veto of them holds for this candidate too, unless it undid them.`,
    '',
    ...(carried.length ? reviewList(carried, 3) : ['None of them was reviewed.', '']),
    `## On Axis \`${data.axis}\``,
    '',
    ...(onAxis.length ? reviewList(onAxis, 3) : ['No other earlier session on this axis was reviewed.', '']),
  );
  return lines.join('\n');
}

function diffSummary(d: PackDiff): string {
  if (d.missing) return `nothing compared: ${d.missing}`;
  const shown = d.files.filter((f) => f.path !== '…');
  if (!shown.length) return 'no workspace file differs';
  const more = shown.length < d.files.length ? ' or more' : '';
  const names = shown
    .slice(0, 6)
    .map((f) => f.path)
    .join(', ');
  return `${shown.length}${more} ${shown.length === 1 && !more ? 'file differs' : 'files differ'}: ${names}${shown.length > 6 ? ', …' : ''}`;
}

/** README.md: what each file holds and what to check in it, the headline figures, and the limits. */
export function renderPackIndex(data: EvidencePackData): string {
  const n = data.session;
  const path = (f: EvidencePackFile) => `\`${evidencePackPath(n, f)}\``;
  const value = data.current?.value ?? null;
  const best = data.best;
  const headline =
    value === null
      ? `${data.metric}: no value this session${data.current?.error ? ` (${data.current.error})` : ''}`
      : `${data.metric} = ${value} this session; ${best ? `${best.value} at ${bestLabel(best)}` : 'no best yet'} (${data.direction})`;
  return [
    `# Evidence pack — session ${sessionLabel(n)}`,
    '',
    "Written by the engine after the evidence command and before the supervisor and the reviewers run. Paths are relative to the loop root. Check the claims in the executor's report against these files; do not take the report's word for it.",
    '',
    `- ${headline}`,
    `- axis: \`${data.axis}\``,
    `- against the best: ${diffSummary(data.diffs.best)}`,
    `- against the previous session: ${diffSummary(data.diffs.previous)}`,
    `- images: ${data.images.length} (${data.images.filter((i) => i.best).length} with a counterpart in ${bestLabel(best) ?? 'the best'})`,
    '',
    renderTable(
      ['file', 'what it holds', 'what to check'],
      [
        [
          path('diffBest'),
          `the workspace of this session's candidate against ${data.diffs.best.against}`,
          'the code does what the report says; nothing outside the axis changed; no shortcut (a hard-coded answer, a weakened test)',
        ],
        [
          path('diffPrevious'),
          `the candidate against ${data.diffs.previous.against}`,
          'what this session changed, apart from what earlier sessions did',
        ],
        [
          path('metrics'),
          "every session's class, value and best; the axes; this session's metrics next to the best's",
          'the trend (improving, flat, noisy); whether the gain exceeds the noise between sessions; the protection criteria',
        ],
        [
          path('images'),
          "this session's evidence images, each beside the best's of the same name",
          'open both of each pair: visible improvements, regressions, and any mismatch between picture and metric',
        ],
        [
          path('logs'),
          "the last lines of the executor's and the evidence command's output, with the full logs' paths",
          'errors, warnings, skipped steps, a run that did less than the report claims',
        ],
        [
          path('reviews'),
          `earlier reviewers' verdicts and recommendations on axis \`${data.axis}\`${data.carried.length ? ', and on the unpromoted sessions whose changes this candidate carries' : ''}`,
          'what was asked for before and whether this session did it',
        ],
      ],
    ),
    '',
    `To measure it yourself, run \`${data.command}\` from the loop root (it prints the metrics as JSON).`,
    '',
    '## Limits',
    '',
    bullets([
      `diffs: at most ${PACK_LIMITS.diffFiles} files and ${kib(PACK_LIMITS.patchChars)} per patch; binary files and files over ${kib(PACK_LIMITS.diffFileBytes)} are named, not inlined (the full copies are under loop_station/code_variants/)`,
      `images: at most ${PACK_LIMITS.imagePairs} pairs listed; the first ${PACK_LIMITS.attachImages} images under ${kib(PACK_LIMITS.attachImageBytes)} are attached to runs of CLIs that take images`,
      `logs: the last ${PACK_LIMITS.logLines} lines (${kib(PACK_LIMITS.logBytes)}) of each`,
      `history: the latest ${PACK_LIMITS.historyRows} sessions; reviews: the latest ${PACK_LIMITS.reviewSessions} reviewed sessions among the last ${PACK_LIMITS.reviewLookback} on this axis, ${PACK_LIMITS.reviewChars} characters of each recommendation`,
    ]),
    '',
  ].join('\n');
}
