/**
 * Header lines and `## ` sections each artifact must carry (docs/protocol.md#layout, #review-wait, #decisions, #summaries, #stop-reasons). One
 * list feeds both the renderers and the validator's ARTIFACT_SECTIONS_MISSING check.
 */

export interface ArtifactParts {
  headers: readonly string[];
  sections: readonly string[];
  /** How the original skill's templates word this file, for folders it wrote (docs/original-folders.md). */
  original?: OriginalWording;
}

export interface OriginalWording {
  /** The templates' words for one of our headers or sections. */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /** Headers and sections the templates do not have: not required of original folders. */
  absent?: readonly string[];
}

export const EXECUTOR_REPORT: ArtifactParts = {
  // `axis` is optional: a report without it works on axis `default` (§6).
  headers: ['agent', 'session', 'status', 'started_at', 'finished_at'],
  sections: [
    'What Ran',
    'Changed Values',
    'Implementation Variants',
    'Results',
    'Evidence',
    'Failures Or Surprises',
    'Executor Interpretation',
  ],
};

export const EXECUTOR_PROPOSAL: ArtifactParts = {
  headers: ['agent', 'session', 'proposed_next_session', 'proposed_axis'],
  sections: ['Summary', 'Promote', 'Keep', 'Retire', 'Proposed Next Action', 'Reviewer Requests'],
  original: { absent: ['proposed_axis'] },
};

export const SUPERVISOR_ANALYSIS: ArtifactParts = {
  headers: [],
  sections: [
    'Inputs Reviewed',
    'Internal Verification',
    'Supervisor Interpretation',
    'Reviewer Handoff',
    'Ready Status',
  ],
};

export const REVIEWER_REQUESTS: ArtifactParts = {
  headers: [],
  sections: ['Reviewer Identity', 'Suggested Audit Axes', 'Sequential Gate', 'Reviewer Standby Instructions'],
};

export const REVIEW_FILE: ArtifactParts = {
  headers: [
    'agent',
    'model',
    'instruction_profile',
    'role',
    'session',
    'status',
    'verdict',
    'recommendation',
    'blocked_reason',
  ],
  sections: [
    'Evidence Checked',
    'Audit Methods Used',
    'Visual Image Check',
    'Metric/Log Analysis',
    'Historical Trend / Log Digest For Executor',
    'Scientific/Literature Challenge',
    'Code/Config Audit',
    'Verdict',
    'Promote/Keep/Retire',
    'Risks Or Confounds',
    'Recommended Next Action',
  ],
  original: { aliases: { model: ['model/version'] }, absent: ['verdict', 'recommendation', 'blocked_reason'] },
};

export const FRAME: ArtifactParts = {
  headers: [],
  sections: ['Success Criteria', 'Protection Criteria', 'Required Review Artifacts', 'Notes'],
};

export const AGENT_ROSTER: ArtifactParts = {
  headers: [],
  sections: ['Flag Format', 'Signal Discovery', 'Allowed Roles', 'Allowed Statuses'],
  original: { absent: ['Signal Discovery'] },
};

export const DECISION: ArtifactParts = {
  headers: [],
  sections: [
    'Integrated Judgment',
    'Remaining Budget',
    'Best Known Candidate',
    'Retired Axes',
    'Pivot Decision',
    'Next Action',
  ],
  // The original asks for a pivot decision "when relevant".
  original: { absent: ['Pivot Decision'] },
};

export const REVIEW_FLAGS: ArtifactParts = { headers: [], sections: ['Timeout Records', 'Protocol Violations'] };

export const ROLLING_SUMMARY: ArtifactParts = {
  headers: [],
  sections: [
    'Current Frame',
    'Current Best',
    'Session Trends',
    'Promoted/Kept/Retired/Stopped',
    'Risks And Confounds',
    'Next Direction',
  ],
  original: { aliases: { 'Promoted/Kept/Retired/Stopped': ['Promoted/Kept/Retired'] } },
};

// The original's ledger is the table alone.
export const SESSION_LEDGER: ArtifactParts = {
  headers: [],
  sections: ['Sessions', 'Interventions'],
  original: { absent: ['Sessions', 'Interventions'] },
};

export const EXECUTOR_BRIEF: ArtifactParts = {
  headers: [],
  sections: [
    'Read This Before Planning',
    'Trend Digest From Reviewer',
    'What The Executor Should Try Next',
    'What Not To Reread',
    'Raw Logs To Reopen Only If Needed',
  ],
  original: {
    aliases: {
      'Read This Before Planning': ['Read This Before Planning The Next Session'],
      'What Not To Reread': ['What The Executor Should Not Reread Unless Needed'],
    },
  },
};

export const LOG_TREND_SUMMARY: ArtifactParts = {
  headers: [],
  sections: [
    'Sessions Covered',
    'Recurring Log Patterns',
    'Failures/Timeouts/Resource Issues',
    'Metric And Visual Trend Links',
    'Commands/Seeds/Configs Worth Rechecking',
    'Stale Or Missing Artifacts',
    'Claims That Need Raw Log Verification',
  ],
};

export const REVIEWER_ROLLUP: ArtifactParts = {
  headers: [],
  sections: [
    'Latest Reviewer Position',
    'Audit Coverage',
    'Recurring Concerns',
    'Confirmed Improvements',
    'Regressions Or Confounds',
    'Requests For Next Session',
    'Executor Token-Saving Digest',
  ],
  original: {
    aliases: {
      'Recurring Concerns': ['Recurring Reviewer Concerns'],
      'Requests For Next Session': ['Reviewer Requests For Next Session'],
    },
    absent: ['Executor Token-Saving Digest'],
  },
};

export const COMPACT_HANDOFF: ArtifactParts = {
  headers: [],
  sections: ['Read First', 'Current State', 'What Matters', 'Next Session', 'Do Not Forget'],
};

export const COMPACT_SESSION: ArtifactParts = {
  headers: ['agent', 'session', 'role'],
  sections: ['Minimal Carry-Forward'],
};

export const FINAL_SUMMARY: ArtifactParts = {
  headers: [
    'loop',
    'stop_reason',
    'stopped_at',
    'sessions_used',
    'tokens',
    'cost_usd',
    'wall_clock',
    'best_session',
    'best_value',
  ],
  sections: [
    'Strict Goal Winner',
    'Review-Artifact Winner',
    'Rejected But Informative Candidates',
    'Retired Directions',
    'Unvalidated Generalization Risks',
    'Interventions',
  ],
  // The original names only the five separations; the header lines are the engine's.
  original: {
    absent: [
      'loop',
      'stop_reason',
      'stopped_at',
      'sessions_used',
      'tokens',
      'cost_usd',
      'wall_clock',
      'best_session',
      'best_value',
      'Interventions',
    ],
  },
};
