import {
  DECISION,
  EXECUTOR_PROPOSAL,
  EXECUTOR_REPORT,
  REVIEW_FILE,
  REVIEW_FLAGS,
  REVIEWER_REQUESTS,
  SUPERVISOR_ANALYSIS,
  type ArtifactParts,
} from '../artifact-sections.js';
import { parseDecisionBlock } from '../decision.js';
import { readFlagName } from '../flag-name.js';
import { loopStationDir, reviewsDir, sessionFilePath, type SessionFile } from '../layout.js';
import type { FlagEvent } from '../lifecycle.js';
import { readReviewJudgment } from '../header-values.js';
import { missingParts, parseHeaderLines, parseSections, titleKey } from '../markdown.js';
import { type FindingCode, type FolderMode, makeFinding } from '../finding.js';
import type { Finding } from '../schemas/finding.js';
import { EvidenceResultSchema } from '../schemas/state.js';
import type { SnapshotIndex } from './snapshot.js';
import type { TrailItem } from './session-trail.js';

/** Per-session artifact checks: the gate of each DONE/READY (§3.2), sections, decision block, hashes. */

export interface SessionArtifactInput {
  session: number;
  mode: FolderMode;
  index: SnapshotIndex;
  /** contract.json's loop_output_root: original flags list absolute paths under it. */
  loopRoot?: string;
}

/** `agent|STATUS` → review file path, from the lenient names in reviews/session_NNN. */
export function reviewFiles(index: SnapshotIndex, session: number): Map<string, string> {
  const dir = reviewsDir(session);
  const out = new Map<string, string>();
  for (const name of index.list(dir)) {
    const flag = readFlagName(name).flag;
    if (flag && flag.session === session) out.set(`${flag.agent}|${flag.status}`, `${dir}/${name}`);
  }
  return out;
}

/** Whether the flag's artifacts are written (§3.2 artifact gate); other flags pass. */
export function gateHolds(input: SessionArtifactInput, item: TrailItem, reviews: ReadonlyMap<string, string>): boolean {
  const { index, session } = input;
  const { name } = item.event as FlagEvent;
  const written = (...files: SessionFile[]) => files.every((f) => index.written(sessionFilePath(session, f)));
  if (name.role === 'EXECUTOR' && name.status === 'DONE') return written('executorReport', 'executorProposal');
  if (name.role === 'SUPERVISOR' && name.status === 'READY') return written('supervisorAnalysis', 'reviewerRequests');
  // A present but invalid decision block is DECISION_BLOCK_INVALID, not a missing artifact.
  if (name.role === 'SUPERVISOR' && name.status === 'DONE') return written('decision', 'reviewFlags');
  if (name.role === 'REVIEWER' && name.status === 'DONE') {
    const own = reviews.get(`${name.agent}|DONE`);
    const listed = item.body?.fields.artifact.map((a) => a.path) ?? [];
    return (
      (own !== undefined && index.written(own)) ||
      listed.some((p) => p.startsWith(`${reviewsDir(session)}/`) && index.written(p))
    );
  }
  return true;
}

const SESSION_ARTIFACTS: readonly [SessionFile, ArtifactParts][] = [
  ['executorReport', EXECUTOR_REPORT],
  ['executorProposal', EXECUTOR_PROPOSAL],
  ['supervisorAnalysis', SUPERVISOR_ANALYSIS],
  ['reviewerRequests', REVIEWER_REQUESTS],
  ['decision', DECISION],
  ['reviewFlags', REVIEW_FLAGS],
];

/** `Metric / Log Analysis`, `metric/log analysis` and `Metric/Log  Analysis` are one title. */
const wording = (text: string): string =>
  text
    .toLowerCase()
    .replace(/\s*([/&-])\s*/g, '$1')
    .replace(/[\s_]+/g, ' ')
    .trim();

/** Header lines and sections the file lacks; original folders may use the templates' wording instead. */
function missingIn(mode: FolderMode, text: string, parts: ArtifactParts): string[] {
  if (mode === 'engine') return missingParts(text, parts);
  const { aliases = {}, absent = [] } = parts.original ?? {};
  const headers = new Set(Object.keys(parseHeaderLines(text)).map(wording));
  const titles = new Set(parseSections(text).map((s) => wording(titleKey(s.title))));
  const has = (set: Set<string>, part: string) => [part, ...(aliases[part] ?? [])].some((p) => set.has(wording(p)));
  return [
    ...parts.headers.filter((h) => !absent.includes(h) && !has(headers, h)).map((h) => `header ${h}`),
    ...parts.sections.filter((t) => !absent.includes(t) && !has(titles, t)).map((t) => `section ## ${t}`),
  ];
}

/** ARTIFACT_SECTIONS_MISSING (w) for a present file that lacks header lines or sections. */
export function sectionFindings(
  mode: FolderMode,
  session: number | null,
  file: string,
  text: string | undefined,
  parts: ArtifactParts,
): Finding[] {
  if (text === undefined) return [];
  const missing = missingIn(mode, text, parts);
  if (!missing.length) return [];
  return [
    makeFinding(
      mode,
      'ARTIFACT_SECTIONS_MISSING',
      { session, file },
      `${file.slice(file.lastIndexOf('/') + 1)} lacks ${missing.join(', ')}`,
      'add the missing header lines and ## sections (docs/protocol.md#layout)',
    ),
  ];
}

/**
 * A review's missing parts: its verdict and recommendation may be in the original template's
 * `## Verdict` and `## Promote / Keep / Retire` sections instead of the header (readReviewJudgment).
 */
function reviewFindings(mode: FolderMode, session: number | null, file: string, text: string | undefined): Finding[] {
  if (text === undefined) return [];
  const read = readReviewJudgment(text);
  const headers = REVIEW_FILE.headers.filter(
    (h) => !(h === 'verdict' && read.verdict) && !(h === 'recommendation' && read.recommendation),
  );
  return sectionFindings(mode, session, file, text, { ...REVIEW_FILE, headers });
}

const PATH_OK = (p: string) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\\');

export function sessionArtifactFindings(
  input: SessionArtifactInput,
  items: readonly TrailItem[],
  reviews: ReadonlyMap<string, string>,
  selfReviewed: boolean,
): Finding[] {
  const { index, session, mode } = input;
  const out: Finding[] = [];
  const add = (code: FindingCode, file: string, message: string, fix: string) =>
    out.push(makeFinding(mode, code, { session, file }, message, fix));
  for (const [file, parts] of SESSION_ARTIFACTS) {
    const path = sessionFilePath(session, file);
    out.push(...sectionFindings(mode, session, path, index.text(path), parts));
  }
  for (const path of reviews.values()) out.push(...reviewFindings(mode, session, path, index.text(path)));
  const decisionPath = sessionFilePath(session, 'decision');
  const decisionText = index.text(decisionPath);
  if (decisionText !== undefined) out.push(...parseDecisionBlock(decisionText, { mode, session }).findings);
  const metricsPath = sessionFilePath(session, 'metrics');
  if (mode === 'engine' && selfReviewed) {
    const text = index.text(metricsPath);
    if (text === undefined && !index.get(metricsPath))
      add(
        'ARTIFACT_MISSING',
        metricsPath,
        'metrics.json is missing after SUPERVISOR-RUNNING',
        'rerun the evidence command for this session (the engine writes metrics.json during self-review)',
      );
    else if (text !== undefined) {
      const problem = metricsProblem(text);
      if (problem)
        add(
          'ARTIFACT_MISSING',
          metricsPath,
          `metrics.json is not valid: ${problem}`,
          'rewrite metrics.json as docs/protocol.md#metrics-json describes (command, exit_code, metrics, metric, value, protection, error)',
        );
    }
  }
  for (const item of items) {
    for (const ref of item.body?.fields.artifact ?? []) {
      const where =
        mode === 'engine'
          ? PATH_OK(ref.path)
            ? ref.path
            : null
          : originalArtifactPath(index, ref.path, input.loopRoot);
      if (where === null) {
        const f = makeFinding(
          mode,
          'PATH_ESCAPES_ROOT',
          { session, file: item.file },
          `${item.label} lists artifact ${ref.path}, which leaves the loop root${mode === 'original' ? ': not checked' : ''}`,
          'list artifacts as POSIX paths relative to the root',
        );
        out.push(mode === 'original' ? { ...f, severity: 'warning' } : f);
        continue;
      }
      if (where === UNCHECKED) continue;
      if (!index.get(where) && !(mode === 'original' && index.exists(where))) {
        add(
          'ARTIFACT_MISSING',
          where,
          `${where}, listed by ${item.label}, is missing`,
          `restore ${where}; artifacts are never deleted`,
        );
        continue;
      }
      const now = index.sha256(where);
      if (ref.sha256 !== null && now !== undefined && now !== ref.sha256) {
        add(
          'ARTIFACT_CHANGED_AFTER_FLAG',
          where,
          `${where} changed after ${item.label} (sha256 ${now.slice(0, 12)}… ≠ ${ref.sha256.slice(0, 12)}…)`,
          'artifacts are frozen once flagged: restore the flagged version, or record the change in the next session',
        );
      }
    }
  }
  return out;
}

const UNCHECKED = Symbol('unchecked');
/** Folders validate reads; a path elsewhere (project outputs such as `artifacts/…`) cannot be checked. */
const READ_ROOTS = [`${loopStationDir}/`, 'code_variants/'];
const PROTOCOL_FOLDERS = /^(?:flags|sessions|reviews|summaries|code_variants)\//;

/**
 * Where an artifact an original folder's flag lists lives in the snapshot: agents write absolute
 * paths under `loop_output_root`, paths relative to `loop_station/`, folders with a final `/`.
 * Null when it leaves the root; UNCHECKED when it lies outside the folders validate reads.
 */
function originalArtifactPath(
  index: SnapshotIndex,
  written: string,
  loopRoot: string | undefined,
): string | typeof UNCHECKED | null {
  // An agent on Windows writes `\` between folders, and many write `./` first: both name the same file.
  let path = written.replace(/\\/g, '/').replace(/\/+$/, '');
  while (path.startsWith('./')) path = path.slice(2);
  if (path.startsWith('/')) {
    const root = loopRoot?.replace(/\/+$/, '');
    if (!root || !path.startsWith(`${root}/`)) return null;
    path = path.slice(root.length + 1);
  }
  if (!PATH_OK(path)) return null;
  const inLoopStation = `${loopStationDir}/${path}`;
  if (!index.exists(path) && (index.exists(inLoopStation) || PROTOCOL_FOLDERS.test(path))) return inLoopStation;
  return READ_ROOTS.some((r) => path.startsWith(r)) || index.exists(path) ? path : UNCHECKED;
}

function metricsProblem(text: string): string | null {
  try {
    const parsed = EvidenceResultSchema.safeParse(JSON.parse(text));
    if (parsed.success) return null;
    const issue = parsed.error.issues[0]!;
    return `${issue.path.join('.') || 'object'}: ${issue.message}`;
  } catch (error) {
    return (error as Error).message;
  }
}
