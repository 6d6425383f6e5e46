import type { Section } from '../markdown.js';

/**
 * The report model's types: what `buildReportData` reads from a loop folder and every renderer
 * (HTML, Markdown, a live view) draws from. Imports in protocol/report/ run one way:
 * model ← sources, images ← data; model ← text ← html, md; trend-chart ← html. Renderers are pure functions
 * of ReportData and never read files.
 */

/** Relative POSIX path (from the loop root) → text, or bytes for images. A key present means the file exists. */
export type ReportFiles = Readonly<Record<string, string | Uint8Array>>;

export type Protection = 'pass' | 'fail' | 'unknown';

export interface ReportReview {
  agent: string;
  verdict: string;
}

export interface ReportLink {
  label: string;
  /** Relative to the loop root. */
  path: string;
}

export interface ReportImage {
  session: number;
  /** Path below the evidence folder (`denoised.png`): the same name compares across sessions. */
  name: string;
  path: string;
  mime: string;
  width: number | null;
  height: number | null;
  /** `data:` URI, or null when the image is too big to embed or not a known image format (then only linked). */
  dataUri: string | null;
  /** Bytes as base64, to tell identical pictures apart without comparing arrays. */
  fingerprint: string;
}

export interface ReportSession {
  session: number;
  timestamp: string | null;
  axis: string | null;
  /** Decision class (`baseline` for 000); null when none was recorded. */
  decision: string | null;
  /** What a human's answer made of a held decision (`→ retire (approved)`); null when none was held. */
  answer: string | null;
  value: number | null;
  bestSession: number | null;
  /** Best value after this session; computed from the values when the folder records none. */
  bestValue: number | null;
  protection: Protection | null;
  reviews: ReportReview[];
  reason: string | null;
  artifacts: ReportLink[];
  images: ReportImage[];
}

export interface ProtectionCheck {
  criterion: string;
  value: number | null;
  pass: boolean | null;
}

export interface BudgetLine {
  label: string;
  used: string | null;
  limit: string | null;
}

export interface PictureColumn {
  session: number;
  /** `baseline`, `first`, `best`, `last`, joined when one session plays several roles. */
  roles: string[];
}

export interface PictureRow {
  name: string;
  /** One cell per column, null where that session has no such image. */
  cells: (ReportImage | null)[];
  /** Every column has the same bytes: shown once. */
  identical: boolean;
}

export interface ReportData {
  loopName: string | null;
  workflowId: string | null;
  protocolVersion: string | null;
  goal: string | null;
  metric: string | null;
  direction: 'maximize' | 'minimize';
  directionRecorded: boolean;
  evidenceCommand: string | null;
  budget: BudgetLine[];
  stopReason: string | null;
  stoppedAt: string | null;
  best: { session: number; value: number } | null;
  bestComputed: boolean;
  baseline: { value: number | null; protection: Protection | null } | null;
  /** The latest metrics.json's failure (evidenceFailure), null when it measured or none was written. */
  evidenceError: { session: number; error: string } | null;
  /** Session rows in order, 000 (the baseline) first when recorded. */
  sessions: ReportSession[];
  successCriteria: string[];
  protection: {
    criteria: string[];
    best: { session: number; checks: ProtectionCheck[] } | null;
    last: { session: number; checks: ProtectionCheck[] } | null;
  };
  /** Markdown of the Interventions section (ledger, else final summary), null if neither has one. */
  interventions: string | null;
  /** The file `interventions` was read from: its relative links resolve against its folder. */
  interventionsSource: string | null;
  amendments: string[];
  /** FINAL_SUMMARY.md sections other than Interventions, in file order. */
  finalSections: Section[];
  /** The FINAL_SUMMARY.md the sections were read from. */
  finalSource: string | null;
  pictures: { columns: PictureColumn[]; rows: PictureRow[] } | null;
  /** Files the model was read from. */
  sources: string[];
  /** Problems met while reading (a bad leaderboard line, a contract that is no JSON). */
  problems: string[];
}

export interface BuildReportOptions {
  /** Larger images are linked, not embedded. @default 2 MiB */
  maxImageBytes?: number;
  /** Embedded images stop here; the rest are linked. @default 16 MiB */
  maxEmbeddedBytes?: number;
}
