import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import * as PARTS from './artifact-sections.js';
import { renderDecisionBlock } from './decision.js';
import { formatFlagName } from './flag-name.js';
import * as L from './layout.js';
import { renderAgentRoster, rosterFromConfig } from './render/agent-roster.js';
import { buildContract, renderContract } from './schemas/contract.js';
import { renderFlagBody } from './schemas/flag-body.js';
import { renderLeaderboard } from './schemas/leaderboard.js';
import type { LoopConfig } from './schemas/loop-config.js';
import { renderReviewFlags, type ReviewFlagRow } from './schemas/review-flags.js';
import type { Role, Status } from './vocabulary.js';
import { detectFolderMode, type LoopFolderSnapshot, type SnapshotEntry, validateLoopFolder } from './validate.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const file = (content: string): SnapshotEntry => ({
  kind: 'file',
  size: Buffer.byteLength(content),
  mtimeMs: 0,
  content,
});
/** A Markdown file with every header line and section the validator checks. */
const artifact = (parts: PARTS.ArtifactParts, title = 'Artifact') =>
  `# ${title}\n\n${parts.headers.map((h) => `${h}: x\n`).join('')}\n${parts.sections.map((s) => `## ${s}\nok\n\n`).join('')}`;

const agent = (token: string, kind: 'codex' | 'claude') => ({
  token,
  kind,
  model: null,
  command: null,
  required: true,
  timeoutMs: null,
  env: [],
  instructions: null,
  options: {},
});
const CONFIG: LoopConfig = {
  name: 'big',
  root: '/loops/big',
  goal: 'scale',
  budget: { sessions: 1000, wallClockMs: null, perRunMs: null, tokens: null, costUsd: null, resources: [] },
  evidence: {
    command: 'node eval.js',
    metric: 'score',
    direction: 'maximize',
    protect: [],
    success: [],
    plateau: 3,
    minDelta: 0,
    timeoutMs: 60_000,
    artifacts: [],
  },
  workspace: ['src/**'],
  protected: [],
  executor: agent('CODEX', 'codex'),
  supervisor: null,
  reviewers: [agent('CLAUDE', 'claude')],
  reviewWait: { startMs: 300_000, doneMs: 1_800_000, heartbeatMs: 600_000, skipOnTimeout: true, optionalDoneCount: 0 },
  askBefore: [],
  taskQueue: 'q',
  continueAsNewEvery: 25,
  compactEvery: 3,
  notify: null,
  env: [],
};

const manifest = (n: number, slug: string) =>
  JSON.stringify({
    session: n,
    change_slug: slug,
    reason: 'snapshot',
    source_files: [],
    variant_files: [],
    entrypoint: null,
    config: null,
    command: 'node eval.js',
    maintained_source_modified: false,
    restore_manifest: null,
    created_at: '2026-01-01T00:00:00.000Z',
  });

/** An engine folder of `sessions` reviewed sessions, every one clean. */
function engineFolder(sessions: number): Record<string, SnapshotEntry> {
  const out: Record<string, SnapshotEntry> = {};
  const put = (path: string, text: string) => (out[path] = file(text));
  put(
    L.contractPath,
    renderContract(
      buildContract({
        config: CONFIG,
        workflowId: 'loop-big',
        lockedAt: '2026-01-01T00:00:00.000Z',
        currentSession: sessions,
        amendments: [],
      }),
    ),
  );
  put(
    L.framePath,
    `# Loop Frame\n\nFRAME LOCKED 2026-01-01T00:00:00.000Z\n\n${artifact(PARTS.FRAME).split('\n').slice(2).join('\n')}`,
  );
  put(L.rosterPath, renderAgentRoster(rosterFromConfig(CONFIG)));
  put(`${L.baselineVariantDir}/manifest.json`, manifest(0, 'baseline'));
  for (const [key, parts] of [
    ['rollingSummary', PARTS.ROLLING_SUMMARY],
    ['sessionLedger', PARTS.SESSION_LEDGER],
    ['executorBrief', PARTS.EXECUTOR_BRIEF],
    ['logTrendSummary', PARTS.LOG_TREND_SUMMARY],
    ['reviewerRollup', PARTS.REVIEWER_ROLLUP],
  ] as const) {
    put(L.summaryPath(key), artifact(parts));
  }
  put(L.leaderboardPath, renderLeaderboard([]));
  let seq = 0;
  for (let n = 1; n <= sessions; n++) {
    const rows: ReviewFlagRow[] = [];
    const at = () => new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString();
    const flag = (agentToken: string, role: Role, status: Status) => {
      seq += 1;
      const name = formatFlagName({ agent: agentToken, session: n, role, status, occurrence: 1 });
      put(
        L.flagPath(n, name),
        renderFlagBody({
          timestamp: at(),
          producer: agentToken,
          role,
          session: n,
          status,
          seq,
          writer: 'engine',
          next: [],
        }),
      );
      rows.push({ seq, timestamp: at(), flag: name, record: null, meaning: '-', action: '-' });
    };
    put(L.sessionFilePath(n, 'executorReport'), artifact(PARTS.EXECUTOR_REPORT));
    put(L.sessionFilePath(n, 'executorProposal'), artifact(PARTS.EXECUTOR_PROPOSAL));
    put(L.sessionFilePath(n, 'supervisorAnalysis'), artifact(PARTS.SUPERVISOR_ANALYSIS));
    put(L.sessionFilePath(n, 'reviewerRequests'), artifact(PARTS.REVIEWER_REQUESTS));
    put(
      L.sessionFilePath(n, 'metrics'),
      JSON.stringify({
        command: 'node eval.js',
        exit_code: 0,
        metrics: { score: n },
        metric: 'score',
        value: n,
        protection: [],
        error: null,
      }),
    );
    put(L.reviewPath('CLAUDE', n, 'DONE'), artifact(PARTS.REVIEW_FILE));
    put(`${L.candidateVariantDir(n)}/manifest.json`, manifest(n, 'candidate'));
    flag('CODEX', 'EXECUTOR', 'RUNNING');
    flag('CODEX', 'EXECUTOR', 'DONE');
    flag('LOOP_STATION', 'SUPERVISOR', 'RUNNING');
    flag('LOOP_STATION', 'SUPERVISOR', 'READY');
    flag('CLAUDE', 'REVIEWER', 'RUNNING');
    flag('CLAUDE', 'REVIEWER', 'DONE');
    seq += 1;
    rows.push({ seq, timestamp: at(), flag: null, record: 'REVIEW_CONSUMED:CLAUDE', meaning: '-', action: '-' });
    put(L.sessionFilePath(n, 'reviewFlags'), renderReviewFlags(n, rows));
    const block = renderDecisionBlock({
      class: 'promote',
      session: n,
      metric: 'score',
      value: n,
      best_session: n,
      best_value: n,
      axis: null,
      next_axis: null,
      protection: 'pass',
      reviews: [{ agent: 'CLAUDE', verdict: 'supported' }],
      approval: 'none',
      on_approve: null,
      on_deny: null,
      stop_reason: null,
      source: 'builtin',
      reason: 'better',
      next: 'CODEX',
    });
    put(
      L.sessionFilePath(n, 'decision'),
      `# Decision\n\n${block}\n\n${artifact(PARTS.DECISION).split('\n').slice(2).join('\n')}`,
    );
    flag('LOOP_STATION', 'SUPERVISOR', 'DONE');
  }
  return out;
}

const summary = (snapshot: LoopFolderSnapshot, options = {}) =>
  validateLoopFolder(snapshot, options).map((f) => `${f.severity} ${f.code} ${f.session ?? '-'} ${f.file ?? '-'}`);

describe('validateLoopFolder at scale', () => {
  const big = engineFolder(500);

  test('500 clean sessions give no finding', () => {
    expect(Object.keys(big).length).toBe(500 * 16 + 10);
    expect(detectFolderMode(big)).toBe('engine');
    expect(validateLoopFolder(big)).toEqual([]);
  });

  test('one session never closed in the middle of 500 is found, and the next start with it', () => {
    const broken = { ...big };
    delete broken[L.flagPath(250, 'LOOP_STATION-SESSION250-SUPERVISOR-DONE.flag')];
    expect(summary(broken)).toEqual([
      'error SESSION_NOT_CLOSED 250 loop_station/flags/session_250',
      'error ORDER_NEXT_SESSION_BEFORE_CLOSE 251 loop_station/flags/session_251/CODEX-SESSION251-EXECUTOR-RUNNING.flag',
    ]);
  });
});

describe('validateLoopFolder options and edges', () => {
  const small = engineFolder(2);

  test('the last open session of a live loop warns; with FINAL_SUMMARY.md at the root it is an error', () => {
    const open = { ...small };
    delete open[L.flagPath(2, 'LOOP_STATION-SESSION002-SUPERVISOR-DONE.flag')];
    expect(summary(open)).toEqual(['warning SESSION_NOT_CLOSED 2 loop_station/flags/session_002']);
    const ended = { ...open, 'FINAL_SUMMARY.md': file(artifact(PARTS.FINAL_SUMMARY)) };
    expect(summary(ended)).toEqual(['error SESSION_NOT_CLOSED 2 loop_station/flags/session_002']);
  });

  test('strict turns warnings into errors', () => {
    const open = { ...small };
    delete open[L.flagPath(2, 'LOOP_STATION-SESSION002-SUPERVISOR-DONE.flag')];
    expect(summary(open, { strict: true })).toEqual(['error SESSION_NOT_CLOSED 2 loop_station/flags/session_002']);
  });

  test('artifact hashes in bodies are checked with the injected sha256', () => {
    const report = L.sessionFilePath(1, 'executorReport');
    const done = L.flagPath(1, 'CODEX-SESSION001-EXECUTOR-DONE.flag');
    const flagged = small[report]!.content!;
    const body = small[done]!.content!.replace('next: -', `artifact: sha256:${sha256(flagged)} ${report}\nnext: -`);
    const edited = { ...small, [done]: file(body), [report]: file(`${flagged}edited later\n`) };
    expect(summary(edited)).toEqual([]);
    expect(summary(edited, { sha256 })).toEqual([`warning ARTIFACT_CHANGED_AFTER_FLAG 1 ${report}`]);
    expect(summary({ ...edited, [report]: { ...edited[report]!, sha256: sha256(flagged) } })).toEqual([]);
  });

  test('a symlink leaving the root is PATH_ESCAPES_ROOT; a report behind a link fails the gate', () => {
    const report = L.sessionFilePath(1, 'executorReport');
    const linked = {
      ...small,
      [report]: { kind: 'symlink', size: 10, mtimeMs: 0, symlinkEscapes: true } as SnapshotEntry,
    };
    expect(summary(linked)).toEqual([
      `error PATH_ESCAPES_ROOT - ${report}`,
      'error DONE_WITHOUT_ARTIFACT 1 loop_station/flags/session_001/CODEX-SESSION001-EXECUTOR-DONE.flag',
    ]);
  });

  test('readers find code_variants and leaderboard.csv at the root too', () => {
    const moved: Record<string, SnapshotEntry> = {};
    for (const [path, entry] of Object.entries(small)) {
      const to = path.startsWith(`${L.codeVariantsDir}/`)
        ? path.slice(`${L.loopStationDir}/`.length)
        : path === L.leaderboardPath
          ? 'leaderboard.csv'
          : path;
      moved[to] = entry;
    }
    expect(summary(moved)).toEqual([]);
    const withoutBoard = { ...moved };
    delete withoutBoard['leaderboard.csv'];
    expect(summary(withoutBoard)).toEqual(['error ARTIFACT_MISSING - loop_station/leaderboard.csv']);
  });

  test('under protocol_version the original forms are not taken: an unreadable time is an error, a section in other words is missing', () => {
    const running = L.flagPath(1, 'CODEX-SESSION001-EXECUTOR-RUNNING.flag');
    const report = L.sessionFilePath(1, 'executorReport');
    const loose = {
      ...small,
      [running]: file(small[running]!.content!.replace(/^timestamp: .*$/m, 'timestamp: after lunch')),
      [report]: file(small[report]!.content!.replace('## Failures Or Surprises', '## Failures / Surprises')),
    };
    expect(summary(loose)).toEqual([
      `error TIMESTAMP_UNREADABLE 1 ${running}`,
      `warning ARTIFACT_SECTIONS_MISSING 1 ${report}`,
    ]);
  });

  test("a review in the original template's form has its verdict, recommendation, model and sections", () => {
    const review = L.reviewPath('CLAUDE', 1, 'DONE');
    const original = (verdict: string) =>
      [
        '# Reviewer Report',
        ...['agent: CLAUDE', 'model/version: claude', 'instruction profile: x', 'role: REVIEWER', 'session: 001'],
        ...['status: DONE', 'blocked_reason: none'].map((line) => `- ${line}`),
        ...PARTS.REVIEW_FILE.sections
          .filter((t) => t !== 'Verdict' && t !== 'Promote/Keep/Retire')
          .map((t) => `## ${t.replace('/', ' / ')}\nok\n`),
        `## Verdict\n- supported: no\n- unsupported: ${verdict}\n- uncertain: no\n`,
        '## Promote / Keep / Retire\n- promote: no\n- keep: no\n- retire: yes — the gain is a leak\n',
      ].join('\n');
    expect(summary({ ...small, [review]: file(original('yes — a metric leak')) })).toEqual([]);
    const unread = validateLoopFolder({ ...small, [review]: file(original('no')) }).map((f) => f.message);
    expect(unread).toEqual(['CLAUDE-SESSION001-REVIEWER-DONE.md lacks header verdict']);
  });

  test('an empty folder only lacks the loop files', () => {
    expect(summary({})).toEqual([
      'error ARTIFACT_MISSING - loop_station/contract.json',
      'error ARTIFACT_MISSING - loop_station/FRAME.md',
      'error ARTIFACT_MISSING - loop_station/agent_roster.md',
    ]);
  });

  test('stray entries in flags/ are named', () => {
    expect(
      summary({
        ...small,
        'loop_station/flags/README.md': file('x'),
        'loop_station/flags/tmp/x': file('x'),
        'loop_station/flags/session_001/.DS_Store': file('x'),
      }),
    ).toEqual([
      'error FLAG_WRONG_SESSION - loop_station/flags/README.md',
      'error FLAG_NAME_INVALID - loop_station/flags/tmp',
    ]);
  });
});
