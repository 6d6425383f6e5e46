import { formatDuration } from '../duration.js';
import { flagsDir, reviewFileName, reviewsDir, sessionFilePath, sessionLabel } from '../layout.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import { bullets, renderTable } from './table.js';

/** reviewer_requests.md (docs/protocol.md#layout): what each reviewer reads, writes and by when. */

export interface ReviewerRequestsInput {
  config: LoopConfig;
  session: number;
  axis: string;
  /** Why review is requested this session (the supervisor's one line). */
  reason: string;
  /** Audit axes the supervisor suggests; defaults cover metric, protection and code. */
  auditAxes?: readonly string[];
  /** The session's evidence pack index (docs/protocol.md#evidence-pack), when the engine wrote one. */
  evidencePack?: string | null;
}

const HEADER = [
  'reviewer',
  'model/version',
  'instruction profile',
  'role',
  'required',
  'reason',
  'artifacts to read',
  'expected review output',
  'expected terminal flag',
  'timeout',
] as const;

export function renderReviewerRequests(input: ReviewerRequestsInput): string {
  const { config, session } = input;
  const n = sessionLabel(session);
  const artifacts = [
    sessionFilePath(session, 'executorReport'),
    sessionFilePath(session, 'executorProposal'),
    sessionFilePath(session, 'metrics'),
    sessionFilePath(session, 'supervisorAnalysis'),
    ...(input.evidencePack ? [input.evidencePack] : []),
  ].join(' ');
  const wait = config.reviewWait;
  const timeout = `start ${formatDuration(wait.startMs)}, done ${formatDuration(wait.doneMs)}, heartbeat ${formatDuration(wait.heartbeatMs)}`;
  const rows = config.reviewers.map((r) => [
    r.token,
    r.model ?? `${r.kind} default`,
    `loop-station/reviewer${r.instructions ? ' + spec instructions' : ''}`,
    'REVIEWER',
    r.required ? 'yes' : 'no',
    input.reason,
    artifacts,
    `${reviewsDir(session)}/${reviewFileName(r.token, session, 'DONE')}`,
    `${r.token}-SESSION${n}-REVIEWER-DONE.flag`,
    timeout,
  ]);
  return [
    `# Reviewer Requests — session ${n}`,
    '',
    renderTable(HEADER, rows),
    '',
    '## Reviewer Identity',
    '',
    'Each review file starts with header lines agent, model, instruction_profile, role, session, status, verdict, recommendation, blocked_reason.',
    '',
    '## Suggested Audit Axes',
    '',
    bullets(
      input.auditAxes ?? [
        `${config.evidence.metric} (${config.evidence.direction}) on axis ${input.axis}: does the value hold up?`,
        `protection: ${config.evidence.protect.join(', ') || 'none declared'}`,
        'code and config changes in the candidate variant',
        ...(input.evidencePack
          ? [
              `the evidence pack ${input.evidencePack}: the diffs against the best and the previous session, the metric history (trend), the image pairs (this session beside the best), the log tails, earlier reviews on this axis`,
            ]
          : []),
      ],
    ),
    '',
    '## Sequential Gate',
    '',
    `The decision waits for every required reviewer's terminal flag in ${flagsDir(session)}/ (or its TIMEOUT); skip on timeout: ${wait.skipOnTimeout}.`,
    '',
    '## Reviewer Standby Instructions',
    '',
    'Before SUPERVISOR-READY a reviewer may only write STANDBY. After READY: RUNNING, HEARTBEAT while working, then DONE (with the review file), BLOCKED or ABSTAIN.',
    '',
  ].join('\n');
}
