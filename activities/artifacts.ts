import { mkdir } from 'node:fs/promises';
import { remainingBudget } from '../protocol/budget.js';
import { renderDecision, parseDecisionBlock } from '../protocol/decision.js';
import {
  baselineVariantDir,
  codeVariantsDir,
  compactSessionPath,
  contractPath,
  finalSummaryPath,
  flagsRoot,
  framePath,
  leaderboardPath,
  reviewsRoot,
  rosterPath,
  sessionFilePath,
  sessionsRoot,
  summariesDir,
  summaryPath,
} from '../protocol/layout.js';
import { checkFrameGlobs } from '../protocol/glob-walk.js';
import { renderAgentRoster, rosterFromConfig } from '../protocol/render/agent-roster.js';
import { renderExecutorBrief } from '../protocol/render/executor-brief.js';
import { renderFrame } from '../protocol/render/frame.js';
import { renderReviewerRequests } from '../protocol/render/reviewer-requests.js';
import { renderRollingSummary } from '../protocol/render/rolling-summary.js';
import { renderSessionLedger } from '../protocol/render/session-ledger.js';
import { renderSupervisorAnalysis } from '../protocol/render/supervisor-analysis.js';
import { renderLogTrendSummary } from '../protocol/render/log-trend-summary.js';
import { renderReviewerRollup } from '../protocol/render/reviewer-rollup.js';
import { renderCompactHandoff, renderCompactSession } from '../protocol/render/compact-handoff.js';
import { renderFinalSummary } from '../protocol/render/final-summary.js';
import type { WorkingTree } from '../protocol/working-tree.js';
import { enforceAgentDecision } from '../protocol/supervisor-rules.js';
import { readAgentDecisionBlock } from '../protocol/decision.js';
import { buildContract, readContract, renderContract } from '../protocol/schemas/contract.js';
import {
  LEADERBOARD_COLUMNS,
  parseLeaderboard,
  renderLeaderboardRow,
  type LeaderboardRow,
} from '../protocol/schemas/leaderboard.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import { renderReviewFlags, type ReviewFlagRow } from '../protocol/schemas/review-flags.js';
import type { BudgetLimits } from '../protocol/schemas/messages.js';
import type {
  AxisState,
  Best,
  DecisionBlock,
  EvidenceResult,
  ExecutorOutcome,
  Intervention,
  SenderRef,
  SessionRecord,
  Usage,
} from '../protocol/schemas/state.js';
import { secretRedactor } from './agents/redact.js';
import { FramePatternError, RootInUseError } from './errors.js';
import { listUnder } from './globs.js';
import { settleWorkingTree } from './end-tree.js';
import { appendSynced, writeFileAtomic, writeFilesAtomic } from './flags.js';
import { resolveInRoot } from './paths.js';
import { readOptionalText } from './read-optional.js';
import { artifactGate } from './session-steps.js';
import type { SenderReader } from './senders.js';
import { snapshotVariant } from './variants.js';

/**
 * The engine's rendered artifacts (docs/protocol.md#layout, #decisions, #summaries, #stop-reasons): each file is rendered by a pure
 * renderer from protocol/render and replaced atomically; leaderboard.csv only grows.
 */

/** Frame lock: refuse a root that holds another loop or patterns that protect nothing, then FRAME.md, contract.json, roster, baseline variant. */
export async function lockFrame(input: {
  config: LoopConfig;
  workflowId: string;
  lockedAt: string;
  notes?: string[];
}): Promise<void> {
  const { config } = input;
  const existing = await readOptionalText(config.root, contractPath);
  if (existing !== null) {
    const prior = readContract(existing).contract;
    // The same lock (an activity retry) is fine; any other loop's folder is never written into.
    if (prior?.workflow_id !== input.workflowId || prior?.locked_at !== input.lockedAt) {
      throw new RootInUseError(config.root, prior?.workflow_id ?? 'written by the original skill');
    }
  }
  // Before any write: a protected pattern that protects nothing would let the evaluator change unseen.
  const globs = await checkFrameGlobs(listUnder(config.root), config.root, config);
  if (globs.errors.length) throw new FramePatternError(config.root, globs.errors, globs.fix);
  for (const dir of [flagsRoot, sessionsRoot, reviewsRoot, codeVariantsDir, summariesDir])
    await mkdir(resolveInRoot(config.root, dir), { recursive: true });
  const contract = buildContract({
    config,
    workflowId: input.workflowId,
    lockedAt: input.lockedAt,
    currentSession: 0,
    amendments: [],
  });
  await writeFileAtomic(config.root, contractPath, renderContract(contract));
  // A workspace pattern that matches nothing yet is told to whoever reads the frame (the executor may create its files);
  // so are the scratch folders, which contract.json does not carry: an agent that reads only the frame still knows them.
  const scratch = config.scratch?.length
    ? [`scratch: ${JSON.stringify(config.scratch)} (run outputs: their changes are expected, and never restored)`]
    : [];
  await writeFileAtomic(
    config.root,
    framePath,
    renderFrame(contract, [...scratch, ...(input.notes ?? []), ...globs.warnings]),
  );
  await writeFileAtomic(config.root, rosterPath, renderAgentRoster(rosterFromConfig(config)));
  await snapshotVariant({
    root: config.root,
    session: 0,
    slug: 'baseline',
    workspace: config.workspace,
    protectedGlobs: config.protected,
    command: config.evidence.command,
    reason: 'Workspace and protected files at frame lock: the baseline every restore can fall back to.',
    createdAt: input.lockedAt,
  });
}

async function readLeaderboard(root: string): Promise<LeaderboardRow[]> {
  const text = await readOptionalText(root, leaderboardPath);
  return text === null ? [] : parseLeaderboard(text).rows;
}

/** Appends a row unless this session already has one (an activity retry); the header comes first. */
async function appendLeaderboardRow(root: string, row: LeaderboardRow): Promise<LeaderboardRow[]> {
  const prepared = await prepareLeaderboardRow(root, row);
  await prepared.append();
  return prepared.rows;
}

/**
 * The leaderboard as it will be with `row` (read now), and the append that makes it so (synced),
 * a no-op when this session already has its row (an activity retry).
 */
async function prepareLeaderboardRow(
  root: string,
  row: LeaderboardRow,
): Promise<{ rows: LeaderboardRow[]; append: () => Promise<void> }> {
  const rows = await readLeaderboard(root);
  if (rows.some((r) => r.session === row.session)) return { rows, append: () => Promise.resolve() };
  const text =
    (rows.length === 0 && (await readOptionalText(root, leaderboardPath)) === null
      ? `${LEADERBOARD_COLUMNS.join(',')}\n`
      : '') + renderLeaderboardRow(row);
  const abs = resolveInRoot(root, leaderboardPath);
  return { rows: [...rows, row], append: () => appendSynced(abs, text) };
}

/** The baseline row `000` (class baseline) once the evidence ran on the untouched workspace. */
export async function recordBaseline(input: {
  config: LoopConfig;
  evidence: EvidenceResult;
  at: string;
}): Promise<void> {
  const { evidence } = input;
  const pass = evidence.error === null && evidence.protection.every((p) => p.pass);
  await appendLeaderboardRow(input.config.root, {
    session: 0,
    timestamp: input.at,
    axis: null,
    class: 'baseline',
    metric: evidence.metric,
    value: evidence.value,
    protection: evidence.error !== null ? 'unknown' : pass ? 'pass' : 'fail',
    best_session: pass && evidence.value !== null ? 0 : null,
    best_value: pass ? evidence.value : null,
    reviews: [],
    variant: baselineVariantDir,
  });
}

export interface SelfReviewInput {
  config: LoopConfig;
  session: number;
  executor: ExecutorOutcome;
  evidence: EvidenceResult | null;
  protectedChanged: string[];
  opensReview: boolean;
  stopNote: string | null;
  best: Best | null;
  at: string;
  /** The evidence pack's index, when the session wrote one: reviewers are pointed at it. */
  evidencePack?: string | null;
}

/** supervisor_analysis.md and reviewer_requests.md: the artifacts READY points at. */
export async function writeSelfReview(input: SelfReviewInput): Promise<void> {
  const { config, session } = input;
  const files: [string, string][] = [];
  if (input.evidence === null) {
    // metrics.json is part of every self-review (docs/protocol.md#canonical-order, step 3): say why nothing was measured.
    const why =
      input.executor.status !== 'DONE'
        ? `not run: the executor ended ${input.executor.status}`
        : `not run: stop requested${input.stopNote ? ` (${input.stopNote})` : ''}`;
    const skipped: EvidenceResult = {
      command: config.evidence.command,
      exit_code: null,
      metrics: {},
      metric: config.evidence.metric,
      value: null,
      protection: [],
      error: why,
    };
    files.push([sessionFilePath(session, 'metrics'), `${JSON.stringify(skipped, null, 2)}\n`]);
  }
  const notOpened = input.opensReview
    ? null
    : input.executor.status !== 'DONE'
      ? `the executor ended ${input.executor.status}`
      : config.reviewers.length === 0
        ? 'no reviewers in the roster'
        : `stop requested${input.stopNote ? `: ${input.stopNote}` : ''}`;
  files.push([
    sessionFilePath(session, 'supervisorAnalysis'),
    renderSupervisorAnalysis({
      session,
      executor: input.executor,
      evidence: input.evidence,
      protectedChanged: input.protectedChanged.length > 0,
      best: input.best,
      reviewers: config.reviewers.map((r) => ({ token: r.token, required: r.required })),
      notOpenedReason: notOpened,
    }),
  ]);
  files.push([
    sessionFilePath(session, 'reviewerRequests'),
    renderReviewerRequests({
      config,
      session,
      axis: input.executor.axis,
      evidencePack: input.evidencePack ?? null,
      reason:
        input.evidence?.value !== null && input.evidence !== undefined && input.evidence !== null
          ? `${input.evidence.metric} = ${input.evidence.value} on axis ${input.executor.axis}: check the claim, the protected files and the code change`
          : 'the evidence gave no value: check why',
    }),
  ]);
  // Independent of each other, all before READY: written at once, their fsyncs overlap.
  await writeFilesAtomic(config.root, [files]);
}

export interface CloseSessionInput {
  config: LoopConfig;
  workflowId: string;
  session: number;
  record: SessionRecord;
  recent: SessionRecord[];
  best: Best | null;
  axes: AxisState[];
  redirects: string[];
  /** Redirects that arrived for the next sessions (shown in EXECUTOR_BRIEF.md). */
  pendingRedirects?: string[];
  rows: ReviewFlagRow[];
  usage: Usage;
  elapsedMs: number;
  budget: BudgetLimits;
  /** This session's interventions, listed in its decision.md. */
  interventions: Intervention[];
  /** Every intervention of the loop so far, for SESSION_LEDGER.md; defaults to `interventions` (runs before it). */
  ledgerInterventions?: Intervention[];
  checkpoint: boolean;
}

/** Why the engine disregarded a reviewer's flag (`OUT-SESSION001-REVIEWER-DONE.flag: body says …`), by reviewer. */
function disregardedFlags(rows: readonly ReviewFlagRow[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of rows) {
    const m = /^([A-Z0-9][A-Z0-9._]*)-SESSION\d+-REVIEWER-[A-Z]+\.flag: (.*)$/s.exec(row.meaning);
    if (row.record?.startsWith('VIOLATION:') && m) out.set(m[1]!, `flag ${m[2]!}`);
  }
  return out;
}

function judgment(record: SessionRecord, rows: readonly ReviewFlagRow[] = []): string {
  const { executor, evidence, reviews, decision } = record;
  const disregarded = disregardedFlags(rows);
  const lines = [
    `Executor ${executor.token} ended ${executor.status}${executor.reason ? ` (${executor.reason})` : ''} on axis ${executor.axis}.`,
    evidence
      ? evidence.error
        ? `Evidence failed: ${evidence.error}.`
        : `Evidence: ${evidence.metric} = ${evidence.value}; protection ${evidence.protection.map((p) => `${p.criterion} ${p.pass ? 'pass' : 'fail'}`).join(', ') || 'none declared'}.`
      : 'No evidence ran this session.',
    reviews.length
      ? `Reviews: ${reviews.map((r) => `${r.agent} ${r.outcome}${r.verdict ? ` ${r.verdict}` : ''}${r.recommendation ? ` → ${r.recommendation}` : ''}`).join('; ')}.`
      : 'No reviews.',
    `Decision (${decision.source}): ${decision.class}. ${decision.reason ?? ''}`.trim(),
  ];
  // Its Next Action, Pivot Decision and prose are in its own file; the block above is what the engine applies.
  if (decision.source === 'agent')
    lines.push(`The supervisor agent's decision as it wrote it: ${sessionFilePath(record.session, 'decisionAgent')}.`);
  // A reviewer whose flag was disregarded did write: the Disregarded line below says what and why.
  const refused = new Set(reviews.filter((r) => r.disregarded).map((r) => r.agent));
  const unreviewed = decision.reviews.filter((r) => r.verdict === 'unreviewed').map((r) => r.agent);
  if (unreviewed.some((a) => !refused.has(a)))
    lines.push(
      `Unreviewed: ${unreviewed.filter((a) => !refused.has(a)).join(', ')} did not review this session (skipped by skipOnTimeout).`,
    );
  if (unreviewed.some((a) => refused.has(a)))
    lines.push(
      `Unreviewed: the review of ${unreviewed.filter((a) => refused.has(a)).join(', ')} did not count, its flag disregarded (skipped by skipOnTimeout).`,
    );
  // A reviewer whose flag was refused is not silent: the decision says what it wrote and why it did not count.
  for (const r of reviews.filter((r) => !r.counted && disregarded.has(r.agent)))
    lines.push(`Disregarded: ${r.agent}'s ${disregarded.get(r.agent)!}; its review was not counted.`);
  for (const r of reviews.filter((r) => r.unreadable?.length))
    lines.push(
      `Unreadable: ${r.agent}'s ${r.unreadable!.join(' and ')} could not be read${r.unreadable!.includes('verdict') ? ' (read as uncertain)' : ''}.`,
    );
  for (const note of executor.unreadable ?? []) lines.push(`Unreadable: ${note}.`);
  const variant = record.codeVariant;
  if (variant)
    lines.push(
      variant.evidence && variant.evidence.error === null
        ? `Code variant ${variant.dir}: ${variant.evidence.metric} = ${variant.evidence.value}; protection ${variant.evidence.protection.map((p) => `${p.criterion} ${p.pass ? 'pass' : 'fail'}`).join(', ') || 'none declared'}.`
        : `Code variant ${variant.dir ?? '(none)'}: ${variant.problem ?? variant.evidence?.error ?? 'not measured'}.`,
    );
  for (const note of record.notes ?? []) lines.push(`Note: ${note}`);
  return lines.join('\n');
}

/** decision.md, the leaderboard row and the summaries, in that order: all before SUPERVISOR-DONE. */
export async function closeSession(input: CloseSessionInput): Promise<void> {
  const { config, session, record } = input;
  const root = config.root;
  const block = record.decision;
  const board = await prepareLeaderboardRow(root, {
    session,
    timestamp: record.closedAt,
    axis: record.executor.axis,
    class: block.class,
    metric: config.evidence.metric,
    value: block.value,
    protection: block.protection,
    best_session: block.best_session,
    best_value: block.best_value,
    reviews: block.reviews.map((r) => `${r.agent}:${r.verdict}`),
    variant: record.variant,
  });
  const records = [...input.recent, record];
  // In this order on disk: review_flags.md and decision.md, then the leaderboard row, then the
  // summaries (all before SUPERVISOR-DONE). Every file is written and synced at once beforehand,
  // their fsyncs overlapping; the leaderboard row is appended once the first two are in place.
  await writeFilesAtomic(
    root,
    [
      [
        [sessionFilePath(session, 'reviewFlags'), renderReviewFlags(session, input.rows)],
        [
          sessionFilePath(session, 'decision'),
          renderDecision({
            block: record.decision,
            judgment: judgment(record, input.rows),
            remaining: remainingBudget(input.budget, session, input.usage, input.elapsedMs),
            best: input.best,
            axes: input.axes,
            plateauSessions: config.evidence.plateau,
            interventions: input.interventions,
          }),
        ],
      ],
      summaryFiles({
        config,
        rows: board.rows,
        records,
        best: input.best,
        axes: input.axes,
        redirects: input.pendingRedirects ?? [],
        lastDecision: block,
        interventions: input.ledgerInterventions ?? input.interventions,
        nextSession: session + 1,
      }),
    ],
    { afterGroup: (group) => (group === 0 ? board.append() : Promise.resolve()) },
  );
  if (input.checkpoint)
    await writeCompaction({
      config,
      records,
      best: input.best,
      axes: input.axes,
      redirects: input.pendingRedirects ?? [],
      nextSession: session + 1,
    });
}

interface SummaryInput {
  config: LoopConfig;
  rows: LeaderboardRow[];
  records: SessionRecord[];
  best: Best | null;
  axes: AxisState[];
  redirects: string[];
  lastDecision: DecisionBlock | null;
  interventions: Intervention[];
  nextSession: number;
}

/** The summaries (docs/protocol.md#summaries), rendered: each depends on none of the others. */
function summaryFiles(s: SummaryInput): [string, string][] {
  return [
    [
      summaryPath('rollingSummary'),
      renderRollingSummary({ config: s.config, records: s.records, best: s.best, axes: s.axes, rows: s.rows }),
    ],
    [
      summaryPath('sessionLedger'),
      renderSessionLedger({ executorToken: s.config.executor.token, rows: s.rows, interventions: s.interventions }),
    ],
    [
      summaryPath('executorBrief'),
      renderExecutorBrief({
        config: s.config,
        nextSession: s.nextSession,
        records: s.records,
        best: s.best,
        axes: s.axes,
        redirects: s.redirects,
        lastDecision: s.lastDecision,
      }),
    ],
    [summaryPath('logTrendSummary'), renderLogTrendSummary({ config: s.config, records: s.records, rows: s.rows })],
    [summaryPath('reviewerRollup'), renderReviewerRollup({ config: s.config, records: s.records })],
  ];
}

/** COMPACT_HANDOFF.md and the executor's carry-forward, at a checkpoint (docs/protocol.md#checkpoints). */
async function writeCompaction(
  s: Pick<SummaryInput, 'config' | 'records' | 'best' | 'axes' | 'redirects' | 'nextSession'>,
): Promise<void> {
  const root = s.config.root;
  const handoff = {
    config: s.config,
    records: s.records,
    best: s.best,
    axes: s.axes,
    redirects: s.redirects,
    nextSession: s.nextSession,
  };
  await writeFileAtomic(root, summaryPath('compactHandoff'), renderCompactHandoff(handoff));
  // The per-agent carry-forward: one for the executor (the one agent that resumes every session).
  await writeFileAtomic(
    root,
    compactSessionPath(s.nextSession - 1, s.config.executor.token),
    renderCompactSession({ ...handoff, agent: s.config.executor.token, role: 'EXECUTOR' }),
  );
}

export interface RecordInterventionInput {
  config: LoopConfig;
  workflowId: string;
  interventions: Intervention[];
  /** Interventions whose sender is first read from the loop's history: their index in `interventions`. */
  senders?: { index: number; ref: SenderRef }[];
}

/**
 * SESSION_LEDGER.md is also rendered on human messages (docs/protocol.md#summaries). Returns who sent
 * the `senders` asked for (null: not found), in their order, already shown in the ledger.
 */
export async function recordIntervention(
  input: RecordInterventionInput,
  readSenders?: SenderReader,
): Promise<{ by: (string | null)[] }> {
  const asked = input.senders ?? [];
  const by = asked.length && readSenders ? await readSenders(asked.map((s) => s.ref)) : [];
  const interventions = input.interventions.map((item, index) => {
    const found = by[asked.findIndex((s) => s.index === index)];
    return found ? { ...item, by: found } : item;
  });
  const rows = await readLeaderboard(input.config.root);
  await writeFileAtomic(
    input.config.root,
    summaryPath('sessionLedger'),
    renderSessionLedger({ executorToken: input.config.executor.token, rows, interventions }),
  );
  return { by };
}

/** An agent supervisor's decision.md, held to the engine's rules; a bad block falls back to the built-in one. */
export interface ReadAgentDecisionInput {
  root: string;
  session: number;
  ok: boolean;
  builtin: DecisionBlock;
  protectedChanged: boolean;
  evidence: EvidenceResult | null;
  /** The names the supervisor's run was given (loop and agent `env:`): their values are redacted from its decision, which goes into history. */
  env?: readonly string[];
  /**
   * Read the block leniently (protocol/agent-decision.ts): a valid class is honoured, missing keys
   * filled and listed. A missing or unknown class comes back as `repair` (the parse error for the
   * repair turn) unless `final`. Absent in runs before it: the strict reader, straight to the fallback.
   */
  lenient?: boolean;
  /** The repair turn was taken: a block still without a valid class falls back. */
  final?: boolean;
  /**
   * Files outside the workspace the executor changed while it changed no workspace file
   * (`executor-footprint`): a promote would make a best its variant cannot restore.
   */
  changedOnlyOutside?: readonly string[];
}

export interface AgentDecisionRead {
  block: DecisionBlock;
  /** Why the engine changed or replaced the agent's block, or null. */
  note: string | null;
  /** Keys filled from the engine's state and values read loosely (lenient). */
  notes?: string[];
  /** Lenient, not final: the parse error a repair turn should fix (then `block` is the fallback). */
  repair?: string;
  /** The block is the built-in fallback. */
  fallback?: boolean;
}

export async function readAgentDecision(input: ReadAgentDecisionInput): Promise<AgentDecisionRead> {
  const path = sessionFilePath(input.session, 'decision');
  // The agent's file: missing, a link out of the root or no regular file is its failure, not the engine's.
  const gate = input.ok ? await artifactGate(input.root, path) : null;
  const read = gate?.ok ? await readOptionalText(input.root, path) : null;
  const text = read === null ? null : secretRedactor(input.env ?? [])(read);
  const fallback = async (why: string): Promise<AgentDecisionRead> => {
    if (text !== null) await writeFileAtomic(input.root, sessionFilePath(input.session, 'decisionAgent'), text);
    return {
      block: { ...input.builtin, source: 'builtin-fallback', reason: `${why}: ${input.builtin.reason ?? ''}`.trim() },
      note: why,
      fallback: true,
    };
  };
  let parsed: DecisionBlock | undefined;
  let notes: string[] = [];
  if (input.lenient) {
    if (!gate) return fallback('the supervisor agent failed');
    const lenient =
      text === null ? null : readAgentDecisionBlock(text, { session: input.session, builtin: input.builtin });
    const error = !gate.ok
      ? `the supervisor agent left no decision: ${gate.reason}`
      : lenient === null
        ? 'the supervisor agent left no decision'
        : 'error' in lenient
          ? lenient.error
          : null;
    if (error !== null) {
      if (!input.final) return { block: input.builtin, note: null, repair: error };
      return fallback(`its decision block has no valid class after the repair turn (${error})`);
    }
    if (lenient && !('error' in lenient)) {
      parsed = lenient.block;
      notes = lenient.notes;
    }
  } else {
    parsed = text === null ? undefined : parseDecisionBlock(text).block;
    if (!parsed || parsed.session !== input.session) {
      const why = !gate
        ? 'the supervisor agent failed'
        : !gate.ok
          ? `the supervisor agent left no decision: ${gate.reason}`
          : 'its decision block is invalid';
      return fallback(why);
    }
  }
  const enforced = enforceAgentDecision(
    {
      ...parsed!,
      source: 'agent',
      session: input.session,
      best_session: input.builtin.best_session,
      best_value: input.builtin.best_value,
      reviews: input.builtin.reviews,
      value: input.builtin.value,
    },
    {
      value: input.evidence?.value ?? null,
      protectionPass: (input.evidence?.protection ?? []).every((p) => p.pass),
      protectedChanged: input.protectedChanged,
      ...(input.changedOnlyOutside?.length ? { changedOnlyOutside: input.changedOnlyOutside } : {}),
    },
  );
  await writeFileAtomic(input.root, sessionFilePath(input.session, 'decisionAgent'), text!);
  return {
    block: enforced.adjusted
      ? { ...enforced.block, reason: `${enforced.adjusted}; ${enforced.block.reason ?? ''}` }
      : enforced.block,
    note: enforced.adjusted,
    ...(input.lenient ? { notes } : {}),
  };
}

export interface FinishLoopInput {
  config: LoopConfig;
  workflowId: string;
  stopReason: DecisionBlock['stop_reason'] & string;
  stoppedAt: string;
  best: Best | null;
  baseline: number | null;
  usage: Usage;
  elapsedMs: number;
  sessionsUsed: number;
  interventions: Intervention[];
  recent: SessionRecord[];
  axes?: AxisState[];
  /** The last evidence run's failure, when no later run succeeded (loops before it: absent). */
  evidenceError?: { session: number; error: string } | null;
}

/** FINAL_SUMMARY.md, once, at the loop's end (docs/protocol.md#final-summary). */
export async function finishLoop(input: FinishLoopInput): Promise<{ path: string; workingTree: WorkingTree | null }> {
  const rows = await readLeaderboard(input.config.root);
  const workingTree = await settleWorkingTree({
    root: input.config.root,
    workspace: input.config.workspace,
    best: input.best,
    stopReason: input.stopReason,
    lastSession: input.sessionsUsed,
    at: input.stoppedAt,
  });
  await writeFileAtomic(
    input.config.root,
    finalSummaryPath,
    renderFinalSummary({ ...input, rows, axes: input.axes ?? [], workingTree }),
  );
  // The loop's end is a checkpoint too (docs/protocol.md#checkpoints); a loop that ended before any session has none to hand off.
  if (input.sessionsUsed > 0) {
    await writeCompaction({
      config: input.config,
      records: input.recent,
      best: input.best,
      axes: input.axes ?? [],
      redirects: [],
      nextSession: input.sessionsUsed + 1,
    });
  }
  return { path: finalSummaryPath, workingTree };
}
