/**
 * POSIX paths of the `loop_station/` layout (docs/protocol.md#layout), relative to the loop root. The one
 * place that spells a folder or file name; activities join them onto the root with paths.ts.
 */

export const loopStationDir = 'loop_station';

const SESSION_LABEL_RE = /^(?:\d{3}|[1-9]\d{3,})$/;

/** `7` → `007`; natural width from 1000 (docs/protocol.md#session-numbers). */
export function sessionLabel(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`session number must be a non-negative integer (got ${n})`);
  return String(n).padStart(3, '0');
}

/** `007` → 7; undefined unless the label is exactly what sessionLabel writes. */
export function parseSessionLabel(label: string): number | undefined {
  return SESSION_LABEL_RE.test(label) ? Number(label) : undefined;
}

/** `session_007` → 7 for a session folder name; lenient about padding (`session_7`) so readers can warn. */
export function parseSessionFolder(name: string): { session: number; canonical: boolean } | undefined {
  const m = /^session_(\d+)$/.exec(name);
  if (!m) return undefined;
  const session = Number(m[1]);
  return { session, canonical: sessionFolderName(session) === name };
}

export const sessionFolderName = (n: number): string => `session_${sessionLabel(n)}`;

export const framePath = `${loopStationDir}/FRAME.md`;
export const contractPath = `${loopStationDir}/contract.json`;
export const rosterPath = `${loopStationDir}/agent_roster.md`;
export const leaderboardPath = `${loopStationDir}/leaderboard.csv`;
export const finalSummaryPath = `${loopStationDir}/FINAL_SUMMARY.md`;

export const flagsRoot = `${loopStationDir}/flags`;
export const sessionsRoot = `${loopStationDir}/sessions`;
export const reviewsRoot = `${loopStationDir}/reviews`;
export const codeVariantsDir = `${loopStationDir}/code_variants`;
export const summariesDir = `${loopStationDir}/summaries`;
export const compactDir = `${summariesDir}/compact`;

export const flagsDir = (n: number): string => `${flagsRoot}/${sessionFolderName(n)}`;
export const sessionDir = (n: number): string => `${sessionsRoot}/${sessionFolderName(n)}`;
export const reviewsDir = (n: number): string => `${reviewsRoot}/${sessionFolderName(n)}`;
export const runsDir = (n: number): string => `${sessionDir(n)}/runs`;

export const flagPath = (n: number, flagName: string): string => `${flagsDir(n)}/${flagName}`;

/** Files of `sessions/session_NNN/` (docs/protocol.md#layout). */
export const SESSION_FILES = {
  executorReport: 'executor_report.md',
  executorProposal: 'executor_proposal.md',
  metrics: 'metrics.json',
  supervisorAnalysis: 'supervisor_analysis.md',
  reviewerRequests: 'reviewer_requests.md',
  reviewFlags: 'review_flags.md',
  decision: 'decision.md',
  /** An agent supervisor's own text when the engine fell back to the built-in result (docs/protocol.md#agent-supervisor). */
  decisionAgent: 'decision.agent.md',
} as const;
export type SessionFile = keyof typeof SESSION_FILES;

/** What the evidence command keeps (`LOOP_STATION_EVIDENCE_DIR`); the baseline's sits beside its variant. */
export const evidenceDir = (n: number): string =>
  n === 0 ? `${codeVariantDir(0, 'baseline')}/evidence` : `${sessionDir(n)}/evidence`;

/** Copies of the files matched by the spec's `evidence.artifacts`, kept per session under the evidence folder. */
export const evidenceArtifactsDir = (n: number): string => `${evidenceDir(n)}/artifacts`;

/** The evidence pack the engine writes before the supervisor and reviewers run (docs/protocol.md#evidence-pack). */
export const EVIDENCE_PACK_FILES = {
  index: 'README.md',
  diffBest: 'diff_vs_best.patch',
  diffPrevious: 'diff_vs_previous.patch',
  metrics: 'metrics.md',
  images: 'images.md',
  logs: 'logs.md',
  reviews: 'reviews.md',
} as const;
export type EvidencePackFile = keyof typeof EVIDENCE_PACK_FILES;

export const evidencePackDir = (n: number): string => `${sessionDir(n)}/evidence_pack`;
export const evidencePackPath = (n: number, file: EvidencePackFile): string =>
  `${evidencePackDir(n)}/${EVIDENCE_PACK_FILES[file]}`;

export const sessionFilePath = (n: number, file: SessionFile): string => `${sessionDir(n)}/${SESSION_FILES[file]}`;

/** `restore_manifest.json`, then `restore_manifest-2.json` for a second restore in one session (§7). */
export function restoreManifestPath(n: number, k = 1): string {
  return `${sessionDir(n)}/${k === 1 ? 'restore_manifest.json' : `restore_manifest-${k}.json`}`;
}

export type ReviewFileStatus = 'DONE' | 'BLOCKED' | 'ABSTAIN';

/** `CLAUDE-SESSION007-REVIEWER-DONE.md`. */
export function reviewFileName(agent: string, n: number, status: ReviewFileStatus): string {
  return `${agent}-SESSION${sessionLabel(n)}-REVIEWER-${status}.md`;
}

export const reviewPath = (agent: string, n: number, status: ReviewFileStatus): string =>
  `${reviewsDir(n)}/${reviewFileName(agent, n, status)}`;

/** `runs/{AGENT}-{ROLE}.prompt.md|.log|.json` (docs/protocol.md#runs). */
export function runFilePath(n: number, agent: string, role: string, kind: 'prompt' | 'log' | 'result'): string {
  const ext = kind === 'prompt' ? 'prompt.md' : kind === 'log' ? 'log' : 'json';
  return `${runsDir(n)}/${agent}-${role}.${ext}`;
}

export const CHANGE_SLUG_RE = /^[a-z0-9][a-z0-9_]*$/;

export function codeVariantDir(n: number, slug: string): string {
  if (!CHANGE_SLUG_RE.test(slug))
    throw new RangeError(`variant slug ${JSON.stringify(slug)} must match [a-z0-9][a-z0-9_]*`);
  return `${codeVariantsDir}/${sessionFolderName(n)}/${slug}`;
}

/** `code_variants/session_NNN`: the folder of a session's variants. */
export const codeVariantSessionDir = (n: number): string => `${codeVariantsDir}/${sessionFolderName(n)}`;

export const baselineVariantDir = codeVariantDir(0, 'baseline');
export const candidateVariantDir = (n: number): string => codeVariantDir(n, 'candidate');
export const variantManifestPath = (n: number, slug: string): string => `${codeVariantDir(n, slug)}/manifest.json`;

/** The six summaries (docs/protocol.md#summaries), in resume read order for the first five. */
export const SUMMARY_FILES = {
  compactHandoff: 'COMPACT_HANDOFF.md',
  executorBrief: 'EXECUTOR_BRIEF.md',
  logTrendSummary: 'LOG_TREND_SUMMARY.md',
  rollingSummary: 'ROLLING_SUMMARY.md',
  sessionLedger: 'SESSION_LEDGER.md',
  reviewerRollup: 'REVIEWER_ROLLUP.md',
} as const;
export type SummaryFile = keyof typeof SUMMARY_FILES;

export const summaryPath = (file: SummaryFile): string => `${summariesDir}/${SUMMARY_FILES[file]}`;

/** `summaries/compact/session_007-CODEX.md`. */
export const compactSessionPath = (n: number, agent: string): string =>
  `${compactDir}/${sessionFolderName(n)}-${agent}.md`;

/** Resume read order (docs/protocol.md#resume-read-order): fixed files first; the latest decision and review follow. */
export const RESUME_READ_ORDER: readonly string[] = [
  contractPath,
  framePath,
  summaryPath('compactHandoff'),
  summaryPath('executorBrief'),
  summaryPath('logTrendSummary'),
  summaryPath('rollingSummary'),
  summaryPath('sessionLedger'),
];
