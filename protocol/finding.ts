import type { Finding } from './schemas/finding.js';

/*
 * Finding codes, severities and the builder, without zod: the lifecycle (protocol/lifecycle.ts) runs
 * inside workflows, which load zod only for human messages (workflows/message-schemas.ts says why).
 * The schema and the Finding type are in protocol/schemas/finding.ts.
 */

/**
 * Violation and finding codes (docs/protocol.md#violation-codes), plus REVIEW_LATE (§3.1), PATH_ESCAPES_ROOT (§0) and
 * TIMESTAMP_UNREADABLE (a flag or row time that is no time: ordered by its file or row instead).
 */
export const FindingCode = {
  FLAG_NAME_INVALID: 'FLAG_NAME_INVALID',
  FLAG_ANONYMOUS: 'FLAG_ANONYMOUS',
  FLAG_WRONG_SESSION: 'FLAG_WRONG_SESSION',
  FLAG_BODY_MISMATCH: 'FLAG_BODY_MISMATCH',
  FLAG_UNKNOWN_PRODUCER: 'FLAG_UNKNOWN_PRODUCER',
  FLAG_DUPLICATE: 'FLAG_DUPLICATE',
  FLAG_COLLISION: 'FLAG_COLLISION',
  TERMINAL_AFTER_TERMINAL: 'TERMINAL_AFTER_TERMINAL',
  DONE_WITHOUT_ARTIFACT: 'DONE_WITHOUT_ARTIFACT',
  ARTIFACT_CHANGED_AFTER_FLAG: 'ARTIFACT_CHANGED_AFTER_FLAG',
  ORDER_BEFORE_EXECUTOR_RUNNING: 'ORDER_BEFORE_EXECUTOR_RUNNING',
  ORDER_SUPERVISOR_BEFORE_EXECUTOR_TERMINAL: 'ORDER_SUPERVISOR_BEFORE_EXECUTOR_TERMINAL',
  ORDER_READY_BEFORE_SELF_REVIEW: 'ORDER_READY_BEFORE_SELF_REVIEW',
  ORDER_READY_AFTER_EXECUTOR_FAILURE: 'ORDER_READY_AFTER_EXECUTOR_FAILURE',
  ORDER_REVIEW_BEFORE_READY: 'ORDER_REVIEW_BEFORE_READY',
  ORDER_SUPERVISOR_DONE_BEFORE_REVIEW: 'ORDER_SUPERVISOR_DONE_BEFORE_REVIEW',
  ORDER_NEXT_SESSION_BEFORE_CLOSE: 'ORDER_NEXT_SESSION_BEFORE_CLOSE',
  REVIEW_NOT_CONSUMED: 'REVIEW_NOT_CONSUMED',
  REVIEW_LATE: 'REVIEW_LATE',
  VIOLATION_NOT_REPAIRED: 'VIOLATION_NOT_REPAIRED',
  SESSION_NOT_CLOSED: 'SESSION_NOT_CLOSED',
  SESSION_GAP: 'SESSION_GAP',
  ARTIFACT_MISSING: 'ARTIFACT_MISSING',
  ARTIFACT_SECTIONS_MISSING: 'ARTIFACT_SECTIONS_MISSING',
  DECISION_BLOCK_INVALID: 'DECISION_BLOCK_INVALID',
  PROTECTED_FILE_CHANGED: 'PROTECTED_FILE_CHANGED',
  WORKSPACE_CHANGED_OUTSIDE_EXECUTOR: 'WORKSPACE_CHANGED_OUTSIDE_EXECUTOR',
  CHANGED_OUTSIDE_WORKSPACE: 'CHANGED_OUTSIDE_WORKSPACE',
  ENGINE_FILE_CHANGED: 'ENGINE_FILE_CHANGED',
  VARIANT_MANIFEST_INVALID: 'VARIANT_MANIFEST_INVALID',
  CONTRACT_INVALID: 'CONTRACT_INVALID',
  CONTRACT_EVIDENCE_MISSING: 'CONTRACT_EVIDENCE_MISSING',
  LEGACY_FLAG_NAME: 'LEGACY_FLAG_NAME',
  SIGNAL_WITHOUT_FLAG: 'SIGNAL_WITHOUT_FLAG',
  TIMESTAMP_UNREADABLE: 'TIMESTAMP_UNREADABLE',
  PATH_ESCAPES_ROOT: 'PATH_ESCAPES_ROOT',
} as const;
export type FindingCode = (typeof FindingCode)[keyof typeof FindingCode];
export const FINDING_CODES = Object.values(FindingCode) as [FindingCode, ...FindingCode[]];

export const Severity = { error: 'error', warning: 'warning' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/**
 * Which rules a folder is held to: `engine` when contract.json has `protocol_version`, else
 * `original` (the skill's hand-run folders), where §2.4 legacy forms and the (w) codes warn.
 */
export type FolderMode = 'engine' | 'original';

const ALWAYS_WARNING: ReadonlySet<FindingCode> = new Set([
  'ARTIFACT_CHANGED_AFTER_FLAG',
  'ARTIFACT_SECTIONS_MISSING',
  'CONTRACT_EVIDENCE_MISSING',
  'REVIEW_LATE',
]);
/** "(w in original folders)" in §3.3, and the §2.4 legacy forms, which are errors under protocol_version. */
const WARNING_IN_ORIGINAL: ReadonlySet<FindingCode> = new Set([
  'FLAG_UNKNOWN_PRODUCER',
  'ORDER_READY_BEFORE_SELF_REVIEW',
  'DECISION_BLOCK_INVALID',
  'LEGACY_FLAG_NAME',
  'SIGNAL_WITHOUT_FLAG',
  'TIMESTAMP_UNREADABLE',
]);

/** The severity §3.3 gives a code in a folder of this mode. */
export function severityOf(code: FindingCode, mode: FolderMode): Severity {
  if (ALWAYS_WARNING.has(code)) return 'warning';
  return mode === 'original' && WARNING_IN_ORIGINAL.has(code) ? 'warning' : 'error';
}

/** Builds a finding with the severity of its code in this mode. */
export function makeFinding(
  mode: FolderMode,
  code: FindingCode,
  where: { session: number | null; file: string | null },
  message: string,
  fix: string,
): Finding {
  return { code, severity: severityOf(code, mode), session: where.session, file: where.file, message, fix };
}
