import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as PARTS from '../artifact-sections.js';
import { missingParts, parseSections, sectionBody } from '../markdown.js';
import { digestMarkdown } from '../markdown-digest.js';
import { renderMarkdownHtml } from '../markdown-html.js';
import { buildContract } from '../schemas/contract.js';
import type { LeaderboardRow } from '../schemas/leaderboard.js';
import type { LoopConfig } from '../schemas/loop-config.js';
import type { AxisState, Best, EvidenceResult, SessionRecord } from '../schemas/state.js';
import { parseAgentRoster, renderAgentRoster, rosterFromConfig } from './agent-roster.js';
import { renderCompactHandoff, renderCompactSession } from './compact-handoff.js';
import { renderExecutorBrief } from './executor-brief.js';
import { renderFinalSummary, reviewArtifactWinner } from './final-summary.js';
import { renderFrame } from './frame.js';
import { renderLogTrendSummary } from './log-trend-summary.js';
import { renderReviewerRequests } from './reviewer-requests.js';
import { renderReviewerRollup } from './reviewer-rollup.js';
import { renderRollingSummary } from './rolling-summary.js';
import { renderSessionLedger } from './session-ledger.js';
import { renderSupervisorAnalysis } from './supervisor-analysis.js';

const agent = (token: string, kind: 'codex' | 'claude' | 'shell' | 'external', required = true) => ({
  token,
  kind,
  model: kind === 'codex' ? 'gpt-5-codex' : kind === 'claude' ? 'claude-sonnet' : null,
  command: kind === 'shell' ? 'node review.mjs' : null,
  required,
  timeoutMs: 2_700_000,
  env: [],
  instructions: null,
  options: {},
});
const CONFIG: LoopConfig = {
  name: 'denoise-psnr',
  root: '/loops/denoise',
  goal: 'Raise validation PSNR of the denoiser without touching the evaluator',
  budget: {
    sessions: 50,
    wallClockMs: 36_000_000,
    perRunMs: 2_700_000,
    tokens: 20_000_000,
    costUsd: 60,
    resources: [],
  },
  evidence: {
    command: 'python eval.py --json',
    metric: 'psnr',
    direction: 'maximize',
    protect: ['ssim >= 0.80'],
    success: ['psnr >= 29'],
    plateau: 3,
    minDelta: 0.05,
    timeoutMs: 1_800_000,
    artifacts: [],
  },
  workspace: ['denoise/**'],
  protected: ['eval.py', 'data/**'],
  executor: agent('CODEX', 'codex'),
  supervisor: null,
  reviewers: [agent('CLAUDE', 'claude'), agent('LINT', 'shell', false)],
  reviewWait: { startMs: 300_000, doneMs: 1_800_000, heartbeatMs: 600_000, skipOnTimeout: true, optionalDoneCount: 0 },
  askBefore: ['stop'],
  taskQueue: 'loop-station',
  continueAsNewEvery: 25,
  compactEvery: 3,
  notify: null,
  env: [],
};

const evidence = (value: number | null, ssim: number, exit = 0): EvidenceResult => ({
  command: 'python eval.py --json',
  exit_code: exit,
  metrics: value === null ? {} : { psnr: value, ssim },
  metric: 'psnr',
  value,
  protection: [{ criterion: 'ssim >= 0.80', value: value === null ? null : ssim, pass: value !== null && ssim >= 0.8 }],
  error: exit ? 'exit 1: CUDA out of memory' : null,
});
const review = (agent: string, over: Partial<SessionRecord['reviews'][number]>) => ({
  agent,
  required: agent === 'CLAUDE',
  outcome: 'done' as const,
  counted: true,
  verdict: 'supported' as const,
  recommendation: 'promote' as const,
  file: null,
  trendDigest: 'width keeps paying off',
  risks: 'single seed',
  nextAction: 'try 64 channels',
  ...over,
});
const record = (
  session: number,
  over: Partial<SessionRecord>,
  cls: SessionRecord['decision']['class'],
  reason: string,
): SessionRecord => ({
  session,
  startedAt: `2026-11-24T1${session}:00:00.000Z`,
  closedAt: `2026-11-24T1${session}:30:00.000Z`,
  executor: {
    token: 'CODEX',
    status: 'DONE',
    reason: null,
    axis: 'width',
    durationMs: 1_200_000,
    tokensIn: 50_000,
    tokensOut: 4000,
    costUsd: 0.8,
    digest: 'widened conv1',
  },
  evidence: evidence(25, 0.9),
  reviews: [],
  records: [],
  interventions: [],
  variant: `loop_station/code_variants/session_00${session}/candidate`,
  decision: {
    class: cls,
    session,
    metric: 'psnr',
    value: 25,
    best_session: 1,
    best_value: 25,
    axis: 'width',
    next_axis: null,
    protection: 'pass',
    reviews: [],
    approval: 'none',
    on_approve: null,
    on_deny: null,
    stop_reason: null,
    source: 'builtin',
    reason,
    next: 'CODEX',
  },
  ...over,
});
const RECORDS: SessionRecord[] = [
  record(
    1,
    {
      reviews: [
        review('CLAUDE', {}),
        review('LINT', { verdict: 'uncertain', recommendation: 'keep', risks: 'single seed' }),
      ],
    },
    'promote',
    'rule 5: 25 beats best 24 (session 000) by more than 0.05',
  ),
  record(
    2,
    {
      executor: {
        token: 'CODEX',
        status: 'BLOCKED',
        reason: 'non-zero exit',
        axis: 'width',
        durationMs: 60_000,
        tokensIn: 9000,
        tokensOut: 100,
        costUsd: 0.1,
        digest: '',
      },
      evidence: evidence(null, 0, 1),
      reviews: [
        review('CLAUDE', {
          outcome: 'skipped',
          counted: false,
          verdict: null,
          recommendation: null,
          trendDigest: '',
          risks: '',
          nextAction: '',
        }),
      ],
    },
    'return_to_best',
    'rule 2: the executor ended BLOCKED',
  ),
  record(
    3,
    {
      evidence: evidence(24.9, 0.85),
      reviews: [
        review('CLAUDE', { verdict: 'unsupported', recommendation: 'retire', risks: 'gain is within noise' }),
        review('LINT', { outcome: 'timeout', counted: false, verdict: null, recommendation: null }),
      ],
    },
    'pivot_axis',
    'rule 6: 24.9 does not beat best 25 (session 001); axis plateau 3 reaches 3: pivot (was return_to_best)',
  ),
];
const ROWS: LeaderboardRow[] = [
  {
    session: 0,
    timestamp: '2026-11-24T09:59:00.000Z',
    axis: null,
    class: 'baseline',
    metric: 'psnr',
    value: 24,
    protection: 'pass',
    best_session: 0,
    best_value: 24,
    reviews: [],
    variant: 'loop_station/code_variants/session_000/baseline',
  },
  {
    session: 1,
    timestamp: '2026-11-24T11:30:00.000Z',
    axis: 'width',
    class: 'promote',
    metric: 'psnr',
    value: 25,
    protection: 'pass',
    best_session: 1,
    best_value: 25,
    reviews: ['CLAUDE:supported', 'LINT:uncertain'],
    variant: 'loop_station/code_variants/session_001/candidate',
  },
  {
    session: 2,
    timestamp: '2026-11-24T12:30:00.000Z',
    axis: 'width',
    class: 'return_to_best',
    metric: 'psnr',
    value: null,
    protection: 'fail',
    best_session: 1,
    best_value: 25,
    reviews: ['CLAUDE:skipped'],
    variant: 'loop_station/code_variants/session_002/candidate',
  },
  {
    session: 3,
    timestamp: '2026-11-24T13:30:00.000Z',
    axis: 'width',
    class: 'pivot_axis',
    metric: 'psnr',
    value: 24.9,
    protection: 'pass',
    best_session: 1,
    best_value: 25,
    reviews: ['CLAUDE:unsupported', 'LINT:timeout'],
    variant: 'loop_station/code_variants/session_003/candidate',
  },
];
const BEST: Best = {
  session: 1,
  value: 25,
  metrics: { psnr: 25, ssim: 0.9 },
  axis: 'width',
  variant: 'loop_station/code_variants/session_001/candidate',
};
const AXES: AxisState[] = [
  { name: 'width', plateau: 3, retired: true, retiredAtSession: 3, sessions: 3, bestValue: 25 },
  { name: 'depth', plateau: 1, retired: false, retiredAtSession: null, sessions: 1, bestValue: 24.95 },
];
const INTERVENTIONS = [
  {
    at: '2026-11-24T12:45:00.000Z',
    kind: 'redirect' as const,
    session: 3,
    note: 'try depth\nnext',
    via: 'update' as const,
  },
];
const contract = buildContract({
  config: CONFIG,
  workflowId: 'loop-denoise-psnr',
  lockedAt: '2026-11-24T09:59:00.000Z',
  currentSession: 3,
  amendments: [
    {
      at: '2026-11-24T12:00:00.000Z',
      session: 2,
      kind: 'extendBudget',
      field: 'budget.cost_limit',
      before: 40,
      after: 60,
      note: 'approved by mark',
    },
  ],
});
const lastDecision = RECORDS[2]!.decision;
const handoff = { config: CONFIG, nextSession: 4, records: RECORDS, best: BEST, axes: AXES, redirects: ['try depth'] };

const CASES: [string, string, PARTS.ArtifactParts][] = [
  ['FRAME.md', renderFrame(contract), PARTS.FRAME],
  ['agent_roster.md', renderAgentRoster(rosterFromConfig(CONFIG)), PARTS.AGENT_ROSTER],
  [
    'supervisor_analysis.md',
    renderSupervisorAnalysis({
      session: 3,
      executor: RECORDS[2]!.executor,
      evidence: RECORDS[2]!.evidence,
      protectedChanged: false,
      best: BEST,
      reviewers: [
        { token: 'CLAUDE', required: true },
        { token: 'LINT', required: false },
      ],
      notOpenedReason: null,
    }),
    PARTS.SUPERVISOR_ANALYSIS,
  ],
  [
    'reviewer_requests.md',
    renderReviewerRequests({ config: CONFIG, session: 3, axis: 'width', reason: 'candidate within noise of the best' }),
    PARTS.REVIEWER_REQUESTS,
  ],
  [
    'ROLLING_SUMMARY.md',
    renderRollingSummary({ config: CONFIG, records: RECORDS, best: BEST, axes: AXES, rows: ROWS }),
    PARTS.ROLLING_SUMMARY,
  ],
  [
    'SESSION_LEDGER.md',
    renderSessionLedger({ executorToken: 'CODEX', rows: ROWS, interventions: INTERVENTIONS }),
    PARTS.SESSION_LEDGER,
  ],
  [
    'EXECUTOR_BRIEF.md',
    renderExecutorBrief({
      config: CONFIG,
      nextSession: 4,
      records: RECORDS,
      best: BEST,
      axes: AXES,
      redirects: ['try depth'],
      lastDecision,
    }),
    PARTS.EXECUTOR_BRIEF,
  ],
  [
    'LOG_TREND_SUMMARY.md',
    renderLogTrendSummary({ config: CONFIG, records: RECORDS.slice(1), rows: ROWS }),
    PARTS.LOG_TREND_SUMMARY,
  ],
  [
    'REVIEWER_ROLLUP.md',
    renderReviewerRollup({
      config: { ...CONFIG, reviewers: [...CONFIG.reviewers, agent('OUTSIDE', 'external', false)] },
      records: RECORDS,
    }),
    PARTS.REVIEWER_ROLLUP,
  ],
  ['COMPACT_HANDOFF.md', renderCompactHandoff(handoff), PARTS.COMPACT_HANDOFF],
  [
    'session_003-CODEX.md',
    renderCompactSession({ ...handoff, agent: 'CODEX', role: 'EXECUTOR' }),
    PARTS.COMPACT_SESSION,
  ],
  [
    'FINAL_SUMMARY.md',
    renderFinalSummary({
      config: CONFIG,
      stopReason: 'budget_cost',
      stoppedAt: '2026-11-24T13:31:00.000Z',
      sessionsUsed: 3,
      usage: { tokensIn: 109_000, tokensOut: 8100, costUsd: 1.7 },
      elapsedMs: 12_660_000,
      best: BEST,
      rows: ROWS,
      recent: RECORDS,
      axes: AXES,
      interventions: INTERVENTIONS,
    }),
    PARTS.FINAL_SUMMARY,
  ],
];

describe('renderers', () => {
  test.for(CASES)('%s matches its snapshot', async ([name, text]) => {
    await expect(text).toMatchFileSnapshot(`./__snapshots__/${name}`);
  });

  test.for(CASES)('%s carries every header and section the validator checks', ([, text, parts]) => {
    expect(missingParts(text, parts)).toEqual([]);
  });

  test('the same input renders the same bytes', () => {
    expect(renderRollingSummary({ config: CONFIG, records: RECORDS, best: BEST, axes: AXES, rows: ROWS })).toBe(
      CASES[4]![1],
    );
  });

  test('agent_roster.md parses back to its entries', () => {
    const entries = rosterFromConfig(CONFIG, 2);
    expect(parseAgentRoster(renderAgentRoster(entries))).toEqual({ entries, problems: [] });
  });

  test("the original's roster reads too: code spans, one row for several roles, TESTER", () => {
    const md = [
      '| agent | role | required | session | status | notes |',
      '|---|---|---:|---:|---|---|',
      '| `CODEX` | `EXECUTOR`, `SUPERVISOR` | yes | 001 | `RUNNING` | both |',
      '| CLAUDE | EXECUTOR + SUPERVISOR | yes | 2 | READY | |',
      '| `TESTER_A` | `TESTER` | optional | 001 | `STANDBY` | |',
      '| Claude Code | REVIEWER | yes | 001 | READY | |',
      '| GEMINI | AUDITOR | yes | 001 | READY | |',
    ].join('\n');
    const entry = (agent: string, role: string, required: boolean, session: number, notes = '') => ({
      agent,
      model: '',
      profile: '',
      role,
      required,
      session,
      status: 'active',
      notes,
    });
    expect(parseAgentRoster(md)).toEqual({
      entries: [
        entry('CODEX', 'EXECUTOR', true, 1, 'both'),
        entry('CODEX', 'SUPERVISOR', true, 1, 'both'),
        entry('CLAUDE', 'EXECUTOR', true, 2),
        entry('CLAUDE', 'SUPERVISOR', true, 2),
        entry('TESTER_A', 'REVIEWER', false, 1),
      ],
      problems: [
        'row 4: agent Claude Code is no agent token (^[A-Z0-9][A-Z0-9._]{0,31}$): its flags cannot name it',
        'row 5: role AUDITOR is not EXECUTOR, SUPERVISOR or REVIEWER',
      ],
    });
  });

  test('ledger rows do not change when later rows are added', () => {
    const before = renderSessionLedger({ executorToken: 'CODEX', rows: ROWS.slice(0, 2), interventions: [] })
      .split('\n')
      .filter((l) => l.startsWith('| 00'));
    const after = renderSessionLedger({ executorToken: 'CODEX', rows: ROWS, interventions: INTERVENTIONS })
      .split('\n')
      .filter((l) => l.startsWith('| 00'));
    expect(after.slice(0, before.length)).toEqual(before);
  });

  test('review-artifact winner: most supported, then the better metric, then the later session', () => {
    const row = (session: number, value: number, reviews: string[]) => ({ ...ROWS[1]!, session, value, reviews });
    expect(
      reviewArtifactWinner(
        [row(1, 25, ['A:supported']), row(2, 26, ['A:supported']), row(3, 30, ['A:uncertain'])],
        'maximize',
      )?.session,
    ).toBe(2);
    expect(reviewArtifactWinner([row(1, 25, ['A:supported']), row(2, 26, ['A:supported'])], 'minimize')?.session).toBe(
      1,
    );
    expect(reviewArtifactWinner([row(1, 25, ['A:supported']), row(2, 25, ['A:supported'])], 'maximize')?.session).toBe(
      2,
    );
    expect(reviewArtifactWinner([row(1, 25, ['A:unsupported'])], 'maximize')).toBe(null);
  });
});

/** Session 004 reviewed with lists, code, a table, links and HTML, digested as the engine digests a review file. */
const RICH_REVIEW = readFileSync(
  fileURLToPath(new URL('../../test/fixtures/markdown/review-rich.md', import.meta.url)),
  'utf8',
);
const richDigest = (title: string) =>
  digestMarkdown(sectionBody(RICH_REVIEW, title), {
    from: 'loop_station/reviews/session_001',
    to: 'loop_station/summaries',
  });
const RICH_RECORDS: SessionRecord[] = [
  ...RECORDS,
  record(
    4,
    {
      reviews: [
        review('CLAUDE', {
          verdict: 'supported',
          recommendation: 'keep',
          trendDigest: richDigest('Historical Trend / Log Digest For Executor'),
          risks: richDigest('Risks Or Confounds'),
          nextAction: richDigest('Recommended Next Action'),
        }),
        review('LINT', { risks: 'single seed' }),
      ],
    },
    'keep',
    'rule 6: within noise',
  ),
];
const RICH_ROWS: LeaderboardRow[] = [
  ...ROWS,
  {
    ...ROWS[3]!,
    session: 4,
    class: 'keep',
    reviews: ['CLAUDE:supported', 'LINT:supported'],
    variant: 'loop_station/code_variants/session_004/candidate',
  },
];
const RICH_BEST: Best = { ...BEST, session: 4 };
const RICH_CASES: [string, string, string][] = [
  [
    'ROLLING_SUMMARY.md',
    renderRollingSummary({ config: CONFIG, records: RICH_RECORDS, best: RICH_BEST, axes: AXES, rows: RICH_ROWS }),
    'Risks And Confounds',
  ],
  ['REVIEWER_ROLLUP.md', renderReviewerRollup({ config: CONFIG, records: RICH_RECORDS }), 'Requests For Next Session'],
  [
    'EXECUTOR_BRIEF.md',
    renderExecutorBrief({
      ...handoff,
      nextSession: 5,
      records: RICH_RECORDS,
      best: RICH_BEST,
      lastDecision: RICH_RECORDS[3]!.decision,
    }),
    'What The Executor Should Try Next',
  ],
  [
    'FINAL_SUMMARY.md',
    renderFinalSummary({
      config: CONFIG,
      stopReason: 'budget_sessions',
      stoppedAt: '2026-11-24T14:31:00.000Z',
      sessionsUsed: 4,
      usage: { tokensIn: 1, tokensOut: 1, costUsd: 0 },
      elapsedMs: 1000,
      best: RICH_BEST,
      rows: RICH_ROWS,
      recent: RICH_RECORDS,
      axes: AXES,
      interventions: [],
    }),
    'Unvalidated Generalization Risks',
  ],
];

describe('summaries quote reviews with their Markdown intact', () => {
  test.for(RICH_CASES)('%s matches its snapshot', async ([name, text]) => {
    await expect(text).toMatchFileSnapshot(`./__snapshots__/rich-review/${name}`);
  });

  test.for(RICH_CASES)('%s keeps its sections: what a review holds stays inside one bullet', ([name, text]) => {
    const plain = CASES.find(([n]) => n === name)![1];
    expect(parseSections(text).map((s) => s.title)).toEqual(parseSections(plain).map((s) => s.title));
    expect(text.split('\n').filter((l) => /^\S/.test(l) && !/^(#|- |\| |[a-z_]+: |Resume read order)/.test(l))).toEqual(
      [],
    );
  });

  test.for(RICH_CASES)(
    "%s renders the review's list and code inside the bullet, and no live tag",
    ([, text, section]) => {
      const html = renderMarkdownHtml(sectionBody(text, section)!, {
        sourceDir: 'loop_station/summaries',
        hrefBase: '..',
      });
      expect(html).toMatch(/<li>[^]*?(<ol>|<ul>|<pre><code)[^]*?<\/li>/);
      expect(html).not.toMatch(/<script|<img|<b>|href="javascript/i);
    },
  );

  test('the risks bullet holds the whole digest: numbered list, nested bullets, code and table', () => {
    const html = renderMarkdownHtml(sectionBody(RICH_CASES[0]![1], 'Risks And Confounds')!, {
      sourceDir: 'loop_station/summaries',
      hrefBase: '..',
    });
    expect(html).toContain(
      '<ol>\n<li>single seed: the gain may be noise\n<ul>\n<li>seeds 1–3 not run\n<ul>\n<li>nor the held-out set</li>',
    );
    expect(html).toContain(
      '<pre><code class="language-python">## not a heading: inside the fence\nif psnr &lt; best: &lt;b&gt;retire&lt;/b&gt;\n</code></pre>',
    );
    expect(html).toContain('<td>28.1</td>');
    expect(html).toContain('<a href="../loop_station/sessions/session_001/runs/eval.log">the log</a>');
  });
});

describe("EXECUTOR_BRIEF.md says how the last session ended, as the executor's prompt does", () => {
  const brief = (last: SessionRecord, best: Best | null = BEST) =>
    sectionBody(
      renderExecutorBrief({ ...handoff, records: [RECORDS[0]!, RECORDS[1]!, last], best, lastDecision: last.decision }),
      'Read This Before Planning',
    )!;

  test('a crashed evaluator: its error, its logs, and a workspace restored to the best', () => {
    const crashed = record(3, { evidence: evidence(null, 0, 1) }, 'retire', 'rule 3: protection not measured');
    const text = brief(crashed);
    expect(text).toContain(
      '- session 003: its evidence command failed (exit 1: CUDA out of memory), so nothing was measured: read why in ' +
        'loop_station/sessions/session_003/runs/evidence.stderr.log and loop_station/sessions/session_003/runs/evidence.stdout.log',
    );
    expect(text).toContain(
      "- session 003: the workspace was restored to the best (session 001): session 003's change is gone\n",
    );
  });

  test("a BLOCKED executor's reason, a held change, and a decision waiting for a human", () => {
    const blocked = record(
      3,
      { executor: { ...RECORDS[2]!.executor, status: 'BLOCKED', reason: 'the dataset is missing' }, evidence: null },
      'return_to_best',
      'rule 2: the executor ended BLOCKED',
    );
    expect(brief(blocked)).toContain(
      '- session 003: its executor ended BLOCKED: the dataset is missing\n' +
        '- session 003: its evidence did not run: nothing was measured\n',
    );
    const held = record(3, {}, 'needs_more_evidence', 'rule 5: 25 beats best 24, but REV found it unsupported');
    expect(brief(held)).toContain(
      "- session 003: the workspace still holds session 003's change (needs_more_evidence), which is not the best " +
        '(session 001): loop_station/sessions/session_003/evidence_pack/diff_vs_best.patch shows how it differs',
    );
    const asked = record(3, {}, 'promote', 'rule 5: 25 beats best 24; promote is listed in askBefore');
    asked.decision = { ...asked.decision, approval: 'pending', on_approve: 'promote', on_deny: 'keep' };
    expect(brief(asked)).toContain(
      "- session 003: its decision waits for a human's answer, which decides whether the workspace keeps session " +
        "003's change (not the best (session 001))",
    );
    // A success ask promotes while it waits: the session is the best already.
    expect(brief(asked, { ...BEST, session: 3 })).toContain(
      "- session 003: the workspace holds its change, now the best (session 003); its decision waits for a human's answer\n",
    );
  });
});
