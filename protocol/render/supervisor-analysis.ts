import { candidateVariantDir, sessionFilePath, sessionLabel } from '../layout.js';
import type { Best, EvidenceResult, ExecutorOutcome } from '../schemas/state.js';
import { bullets, num } from './table.js';

/** supervisor_analysis.md (docs/protocol.md#layout): the built-in supervisor's self-review before READY. */

export interface SupervisorAnalysisInput {
  session: number;
  executor: ExecutorOutcome;
  evidence: EvidenceResult | null;
  protectedChanged: boolean;
  best: Best | null;
  reviewers: readonly { token: string; required: boolean }[];
  /** Null when review opens; else why it does not (REVIEW_NOT_OPENED reason). */
  notOpenedReason: string | null;
}

/** What the executor changed beyond its own files (docs/protocol.md#executor-footprint), one line per kind. */
function footprintLines(footprint: ExecutorOutcome['footprint']): string[] {
  if (!footprint) return [];
  const { outside, engineFiles, restored } = footprint;
  return [
    ...(outside.length
      ? [
          `changed outside the workspace (not in the candidate variant, not restorable): ${outside.join(', ')}` +
            (footprint.workspaceChanged ? '' : '; no workspace file changed'),
        ]
      : []),
    ...(engineFiles.length
      ? [
          `engine files under loop_station/ changed by the executor: ${engineFiles.join(', ')}` +
            (restored.length ? `; put back: ${restored.join(', ')}` : ''),
        ]
      : []),
    ...(footprint.truncated ? ['the footprint walk stopped at its bound: files past it were not compared'] : []),
  ];
}

export function renderSupervisorAnalysis(input: SupervisorAnalysisInput): string {
  const { session, executor, evidence } = input;
  const n = sessionLabel(session);
  const protection =
    evidence?.protection.map((p) => `${p.criterion}: ${num(p.value)} → ${p.pass ? 'pass' : 'fail'}`) ?? [];
  const interpretation =
    evidence?.value === null || evidence === null
      ? 'no value: the evidence did not produce the metric'
      : input.best
        ? `${evidence.metric} = ${evidence.value}; best ${input.best.value} (session ${sessionLabel(input.best.session)})`
        : `${evidence.metric} = ${evidence.value}; no best yet`;
  return [
    `# Supervisor Analysis — session ${n}`,
    '',
    '## Inputs Reviewed',
    '',
    bullets([
      sessionFilePath(session, 'executorReport'),
      sessionFilePath(session, 'executorProposal'),
      sessionFilePath(session, 'metrics'),
      `${candidateVariantDir(session)}/manifest.json`,
    ]),
    '',
    '## Internal Verification',
    '',
    bullets([
      `executor ${executor.token} ended ${executor.status}${executor.reason ? ` (${executor.reason})` : ''} on axis ${executor.axis}`,
      evidence
        ? `evidence \`${evidence.command}\` exited ${num(evidence.exit_code)}${evidence.error ? `: ${evidence.error}` : ''}`
        : 'evidence not run',
      ...protection,
      input.protectedChanged ? 'protected files: CHANGED' : 'protected files: unchanged',
      ...(executor.missingParts ?? []).map((part) => `${part}: missing`),
      ...(executor.unreadable ?? []).map((note) => `unreadable: ${note}`),
      ...footprintLines(executor.footprint),
    ]),
    '',
    '## Supervisor Interpretation',
    '',
    interpretation,
    '',
    '## Reviewer Handoff',
    '',
    bullets(
      input.reviewers.map((r) => `${r.token} (${r.required ? 'required' : 'optional'}): see reviewer_requests.md`),
      'no reviewers: supervisor only',
    ),
    '',
    '## Ready Status',
    '',
    input.notOpenedReason === null
      ? 'READY: review opens with SUPERVISOR-READY'
      : `NOT READY: REVIEW_NOT_OPENED:${input.notOpenedReason}`,
    '',
  ].join('\n');
}
