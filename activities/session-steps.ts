import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { checkBodyIdentity, parseFlagBody, renderFlagBody, type FlagBody } from '../protocol/schemas/flag-body.js';
import { buildContract, renderContract, type Amendment } from '../protocol/schemas/contract.js';
import { parseFlagName, readFlagName, type FlagName } from '../protocol/flag-name.js';
import {
  baselineVariantDir,
  candidateVariantDir,
  contractPath,
  flagsDir,
  reviewPath,
  reviewsDir,
  runsDir,
  sessionDir,
  sessionFilePath,
  sessionLabel,
  summariesDir,
  variantManifestPath,
} from '../protocol/layout.js';
import { hasContent, missingParts, parseHeaderLines, parseSections, sectionBody } from '../protocol/markdown.js';
import { type AgentFlagFacts } from '../protocol/agent-flags.js';
import { EXECUTOR_PROPOSAL, EXECUTOR_REPORT } from '../protocol/artifact-sections.js';
import { digestMarkdown } from '../protocol/markdown-digest.js';
import { readAxis, readReviewJudgment, readStatus } from '../protocol/header-values.js';
import { renderReviewFlags, type ReviewFlagRow } from '../protocol/schemas/review-flags.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { ExecutorFootprint, ReviewOutcome } from '../protocol/schemas/state.js';
import { secretRedactor, type Redactor } from './agents/redact.js';
import { isEngineFlagBody, sha256Hex, writeFileAtomic, writeFlag } from './flags.js';
import { ArtifactGateError, FileReadError, PathEscapeError, WorkspaceSymlinkError } from './errors.js';
import { resolveInRoot } from './paths.js';
import { isAbsent, readOptionalText } from './read-optional.js';
import { inspectFootprint, takeFootprintSnapshot } from './executor-footprint.js';
import { compareWithVariant, restoreVariant, snapshotVariant, type RestoreResult } from './variants.js';

/** The file steps of one session, in lifecycle order. Each is idempotent: a retry redoes it exactly. */

export type FlagFields = Omit<FlagBody, 'producer' | 'role' | 'session' | 'status' | 'writer' | 'artifact'>;
export type ReviewFlagRowInput = ReviewFlagRow;

/** An artifact passes the gate when it is a regular file inside the root with a non-whitespace character (§3.2). */
export async function artifactGate(root: string, rel: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const gate = await readGated(root, rel);
  return gate.ok ? { ok: true } : gate;
}

/** The artifact gate, with the bytes that passed it. */
async function readGated(
  root: string,
  rel: string,
): Promise<{ ok: true; bytes: Buffer } | { ok: false; reason: string }> {
  const info = await lstatInRoot(root, rel);
  if (info === 'absent') return { ok: false, reason: `${rel} is missing` };
  if (info === 'outside') return { ok: false, reason: `${rel} leads outside the root` };
  if (!info.isFile()) return { ok: false, reason: `${rel} is not a regular file` };
  const bytes = await readFile(resolveInRoot(root, rel));
  return hasContent(bytes.toString('utf8')) ? { ok: true, bytes } : { ok: false, reason: `${rel} is empty` };
}

/** A flag's artifact: gated, and the sha256 of the very bytes that passed the gate (one read). */
async function hashedArtifact(root: string, path: string): Promise<{ sha256: string; path: string }> {
  const gate = await readGated(root, path);
  if (!gate.ok) throw new ArtifactGateError(path, gate.reason);
  return { sha256: createHash('sha256').update(gate.bytes).digest('hex'), path };
}

/** Awaits every promise, then throws the first failure in the given order (not the first in time), as sequential steps would. */
async function allInOrder<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** lstat of a file an agent may have left (or not): its absence and a link out of the root are its doing; other errors are faults. */
async function lstatInRoot(root: string, rel: string): Promise<Stats | 'absent' | 'outside'> {
  try {
    return await lstat(resolveInRoot(root, rel));
  } catch (error) {
    if (error instanceof PathEscapeError) return 'outside';
    if (isAbsent(error)) return 'absent';
    throw new FileReadError(root, rel, error);
  }
}

/** An agent's file that passed the artifact gate, with the secrets the agent was given redacted (its digest goes into history). */
async function readAgentFile(root: string, rel: string, redact: Redactor): Promise<string> {
  return redact((await readOptionalText(root, rel)) ?? '');
}

/** The executor's Results as one line: the session joins it with its wait notes, and no summary quotes it. */
const oneLineDigest = (text: string | undefined, max = 600): string => {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export interface OpenSessionInput {
  config: LoopConfig;
  workflowId: string;
  lockedAt: string;
  session: number;
  now: string;
  amendments: Amendment[];
  budget: LoopConfig['budget'];
  restore: { variantDir: string; reason: string; approvalReference: string } | null;
}

export async function openSession(
  input: OpenSessionInput,
): Promise<{ restored: RestoreResult | null; protectedChanged: string[] }> {
  const { config, session } = input;
  await Promise.all(
    [flagsDir(session), sessionDir(session), reviewsDir(session), runsDir(session)].map((dir) =>
      mkdir(resolveInRoot(config.root, dir), { recursive: true }),
    ),
  );
  const contract = buildContract({
    config: { ...config, budget: input.budget },
    workflowId: input.workflowId,
    lockedAt: input.lockedAt,
    currentSession: session,
    amendments: input.amendments,
  });
  const contractWritten = writeFileAtomic(config.root, contractPath, renderContract(contract));
  // Without a restore, the protected files are hashed while contract.json is written and synced.
  if (input.restore) await contractWritten;
  else contractWritten.catch(() => undefined);
  const restored = input.restore
    ? await restoreVariant({
        root: config.root,
        session,
        variantDir: input.restore.variantDir,
        globs: config.workspace,
        approvalReference: input.restore.approvalReference,
        reason: input.restore.reason,
        createdAt: input.now,
      })
    : null;
  const [protectedChanged] = await Promise.all([
    config.protected.length ? compareWithVariant(config.root, baselineVariantDir, config.protected, 'untouched') : [],
    contractWritten,
  ]);
  await takeFootprintSnapshot({ root: config.root, session, workspace: config.workspace, scratch: config.scratch });
  return { restored, protectedChanged };
}

export interface EmitFlagInput {
  root: string;
  session: number;
  flag: FlagName;
  fields: FlagFields;
  /** Root-relative artifacts: each must pass the gate; its sha256 goes into the body. */
  artifacts: string[];
  rows: ReviewFlagRow[];
  /** The sha256 of an agent's flag at this name to keep as this step's own (writeFlag's `adopt`). */
  adopt?: string;
}

/**
 * Writes review_flags.md (already listing this flag), then the flag with its artifacts hashed. The
 * artifacts are gated and hashed while review_flags.md is written, except when they include it
 * (SUPERVISOR-DONE): then after, so the hash is that of the final file. Either way the flag
 * appears only once review_flags.md is in place and synced.
 */
export async function emitFlag(input: EmitFlagInput): Promise<{ name: string; sha256: string }> {
  const reviewFlags = sessionFilePath(input.session, 'reviewFlags');
  const writeRows = () => writeFileAtomic(input.root, reviewFlags, renderReviewFlags(input.session, input.rows));
  const hashAll = () => allInOrder(input.artifacts.map((path) => hashedArtifact(input.root, path)));
  let artifact: { sha256: string; path: string }[];
  if (input.artifacts.includes(reviewFlags)) {
    await writeRows();
    artifact = await hashAll();
  } else {
    const [written, hashed] = await Promise.allSettled([writeRows(), hashAll()]);
    if (written.status === 'rejected') throw written.reason;
    if (hashed.status === 'rejected') throw hashed.reason;
    artifact = hashed.value;
  }
  const body = renderFlagBody({
    ...input.fields,
    producer: input.flag.agent,
    role: input.flag.role,
    session: input.session,
    status: input.flag.status,
    writer: 'engine',
    ...(artifact.length ? { artifact } : {}),
  });
  const written = await writeFlag({
    root: input.root,
    session: input.session,
    flag: input.flag,
    body,
    engine: true,
    ...(input.adopt !== undefined ? { adopt: input.adopt } : {}),
  });
  return { name: written.name, sha256: written.sha256 };
}

export interface InspectExecutorResult {
  gate: { ok: boolean; reason: string | null };
  reportStatus: string | null;
  axis: string;
  digest: string;
  protectedChanged: string[];
  /** What the report and proposal lack of docs/protocol.md#layout (`executor_report.md: section ## Evidence`). */
  missingParts: string[];
  /** The proposal's Proposed Next Action, digested ('' when it has none): the next executor reads it. */
  proposedNext: string;
  /** Header values the engine could not read (a status or axis it does not know), for the self-review. */
  unreadable: string[];
  /** With `engineFlags`: the executor flags of the session the engine did not write, or that changed since it did. */
  agentFlags?: AgentExecutorFlag[];
  /** What the executor changed beyond its own files; null for a session opened without the snapshot. */
  footprint: ExecutorFootprint | null;
}

/** An EXECUTOR flag in the session's folder that is not the engine's as the engine wrote it. */
export type AgentExecutorFlag = AgentFlagFacts;

/**
 * The EXECUTOR flags of the session other than the engine's own as it wrote them (`engineFlags`:
 * name → sha256 at the write): flags an executor following the original skill wrote itself, and the
 * engine's flags it rewrote in place (`echo … >`). Read after the run, before the terminal flag.
 */
async function agentExecutorFlags(
  root: string,
  session: number,
  engineFlags: Record<string, string>,
): Promise<AgentExecutorFlag[]> {
  const out: AgentExecutorFlag[] = [];
  const dir = flagsDir(session);
  const names = await readdir(resolveInRoot(root, dir)).catch((error: unknown) => {
    if (isAbsent(error)) return [] as string[];
    throw error;
  });
  for (const name of names.sort()) {
    const flag = parseFlagName(name);
    if (!flag || flag.role !== 'EXECUTOR' || flag.session !== session) continue;
    const info = await lstatInRoot(root, `${dir}/${name}`);
    if (info === 'absent' || info === 'outside' || !info.isFile()) continue;
    // The very bytes (the writer compares these with what it adopts), read through the root check.
    const bytes = await readFile(resolveInRoot(root, `${dir}/${name}`));
    const body = bytes.toString('utf8');
    const sha256 = sha256Hex(bytes);
    const wrote = engineFlags[name];
    if (wrote !== undefined ? wrote === sha256 : isEngineFlagBody(body)) continue;
    const fields = parseFlagBody(body).fields;
    out.push({
      name,
      status: flag.status,
      said: fields.status ?? null,
      agrees: checkBodyIdentity(flag, fields).length === 0,
      sha256,
      rewrote: wrote ?? null,
    });
  }
  return out;
}

/** An agent's value quoted in a note: one line, no backticks, short. */
const quoted = (text: string): string => {
  const flat = text.replace(/[`\s]+/g, ' ').trim();
  return `\`${flat.length > 80 ? `${flat.slice(0, 79)}…` : flat}\``;
};

/** After the executor: snapshot `candidate`, re-hash protected files, check the artifact gate, read the report's header. */
export async function inspectExecutor(input: {
  config: LoopConfig;
  session: number;
  createdAt: string;
  /** The executor flags the engine wrote this session (name → sha256): asks for `agentFlags`. */
  engineFlags?: Record<string, string>;
}): Promise<InspectExecutorResult> {
  const { config, session } = input;
  const reasons: string[] = [];
  // The workspace as the snapshot hashed it: the footprint compares the same files, so it reads them once.
  let workspaceHashes: { path: string; sha256: string }[] | undefined;
  try {
    const { manifest } = await snapshotVariant({
      root: config.root,
      session,
      slug: 'candidate',
      workspace: config.workspace,
      protectedGlobs: [],
      command: config.evidence.command,
      reason: `Workspace as the executor left it in session ${sessionLabel(session)}.`,
      createdAt: input.createdAt,
    });
    workspaceHashes = manifest.source_files.map((f) => ({ path: f.path, sha256: f.sha256_before_copy }));
  } catch (error) {
    // A symlink in the workspace (it may lead out of the root) blocks the session; the next one restores the best.
    if (!(error instanceof WorkspaceSymlinkError)) throw error;
    reasons.push(`the workspace holds a symlink (${error.path}); code variants copy bytes only`);
  }
  const protectedChanged = config.protected.length
    ? await compareWithVariant(config.root, baselineVariantDir, config.protected, 'untouched')
    : [];
  const footprint = await inspectFootprint({ ...config, session, workspaceHashes });
  const gates = [];
  for (const file of ['executorReport', 'executorProposal'] as const) {
    const gate = await artifactGate(config.root, sessionFilePath(session, file));
    if (!gate.ok) reasons.push(gate.reason);
    gates.push(gate);
  }
  const redact = secretRedactor([...config.env, ...config.executor.env]);
  const report = gates[0]!.ok
    ? await readAgentFile(config.root, sessionFilePath(session, 'executorReport'), redact)
    : '';
  // The self-review says what the files lack, and the next executor is asked for it (validate warns the same).
  const proposal = gates[1]!.ok
    ? await readAgentFile(config.root, sessionFilePath(session, 'executorProposal'), redact)
    : '';
  const missing = [
    ...(gates[0]!.ok ? missingParts(report, EXECUTOR_REPORT).map((p) => `executor_report.md: ${p}`) : []),
    ...(gates[1]!.ok ? missingParts(proposal, EXECUTOR_PROPOSAL).map((p) => `executor_proposal.md: ${p}`) : []),
  ];
  const header = parseHeaderLines(report);
  // A report that says BLOCKED (or FAILED, not done, partial) is the executor's own word that the session did not work.
  const status = readStatus(header.status ?? '');
  if (status?.status === 'BLOCKED') {
    const why = header.blocked_reason ?? header.blocker;
    reasons.push(`executor report says ${header.status!.trim()}${why ? `: ${why}` : ''}`);
  }
  const unreadable: string[] = [];
  if (gates[0]!.ok && header.status?.trim() && !status)
    unreadable.push(
      `executor_report.md: status ${quoted(header.status)} is not DONE, BLOCKED or ABSTAIN; read as DONE`,
    );
  const axis = readAxis(header.axis ?? '');
  if (header.axis?.trim() && !axis)
    unreadable.push(
      `executor_report.md: axis ${quoted(header.axis)} cannot be read; the session counts on axis default`,
    );
  return {
    gate: reasons.length ? { ok: false, reason: reasons.join('; ') } : { ok: true, reason: null },
    reportStatus: status?.status ?? (header.status ? header.status.trim().toUpperCase() : null),
    axis: axis ?? 'default',
    digest: oneLineDigest(sectionBody(report, 'Results') ?? sectionBody(report, 'Executor Interpretation')),
    protectedChanged,
    missingParts: missing,
    proposedNext: digestMarkdown(sectionBody(proposal, 'Proposed Next Action'), {
      from: sessionFilePath(session, 'executorProposal').split('/').slice(0, -1).join('/'),
      to: summariesDir,
    }),
    unreadable,
    ...(input.engineFlags ? { agentFlags: await agentExecutorFlags(config.root, session, input.engineFlags) } : {}),
    footprint,
  };
}

type ReviewDigest = Pick<
  ReviewOutcome,
  'verdict' | 'recommendation' | 'file' | 'trendDigest' | 'risks' | 'nextAction' | 'unreadable'
>;

/** A review as the session records it: its verdict and recommendation (readReviewJudgment) and digests. */
function readReview(text: string, file: string): ReviewDigest {
  const { verdict, recommendation, unreadable } = readReviewJudgment(text);
  const sections = parseSections(text);
  // Summaries quote the digests: their relative links are re-based from the review's folder to theirs.
  const links = { from: file.split('/').slice(0, -1).join('/'), to: summariesDir };
  return {
    verdict: verdict ?? 'uncertain',
    recommendation: recommendation ?? null,
    file,
    trendDigest: digestMarkdown(sectionBody(sections, 'Historical Trend / Log Digest For Executor'), links),
    risks: digestMarkdown(sectionBody(sections, 'Risks Or Confounds'), links),
    nextAction: digestMarkdown(sectionBody(sections, 'Recommended Next Action'), links),
    ...(unreadable.length ? { unreadable } : {}),
  };
}

export interface InspectReviewInput {
  root: string;
  session: number;
  token: string;
  exitedOk: boolean;
  reason: string | null;
  /** The names the reviewer's run was given (loop and agent `env:`): their values are redacted from what it wrote. */
  env?: readonly string[];
}

/** After a managed reviewer: gate, header, and the rename of a -DONE.md that did not end DONE (§1). */
export async function inspectReview(
  input: InspectReviewInput,
): Promise<{ status: 'DONE' | 'BLOCKED' | 'ABSTAIN'; reason: string | null; review: ReviewDigest }> {
  const redact = secretRedactor(input.env ?? []);
  const donePath = reviewPath(input.token, input.session, 'DONE');
  const gate = await artifactGate(input.root, donePath);
  const text = gate.ok ? await readAgentFile(input.root, donePath, redact) : '';
  const said = readStatus(parseHeaderLines(text).status ?? '');
  const headerStatus = said?.status ?? '';
  let status: 'DONE' | 'BLOCKED' | 'ABSTAIN' = 'DONE';
  let reason: string | null = null;
  if (!input.exitedOk) [status, reason] = ['BLOCKED', input.reason ?? 'reviewer failed'];
  else if (!gate.ok) [status, reason] = ['BLOCKED', gate.reason];
  else if (headerStatus === 'ABSTAIN' || headerStatus === 'BLOCKED')
    [status, reason] = [
      headerStatus,
      `review says ${headerStatus}: ${parseHeaderLines(text).blocked_reason ?? (said?.rest || 'no reason given')}`,
    ];
  let file: string | null = gate.ok ? donePath : null;
  if (status !== 'DONE' && gate.ok) {
    file = reviewPath(input.token, input.session, status);
    await rename(resolveInRoot(input.root, donePath), resolveInRoot(input.root, file));
  } else if (status !== 'DONE') {
    const renamed = reviewPath(input.token, input.session, status);
    if ((await artifactGate(input.root, renamed)).ok) file = renamed; // a retry after the rename
  }
  const review = file
    ? readReview(await readAgentFile(input.root, file, redact), file)
    : { verdict: null, recommendation: null, file: null, trendDigest: '', risks: '', nextAction: '' };
  return { status, reason, review };
}

export interface ExternalFlagInfo {
  name: string;
  path: string;
  kind: 'flag' | 'review';
  flag: FlagName | null;
  problem: { code: string; message: string } | null;
  artifactOk: boolean;
  writtenBeforeReady: boolean;
  mtimeMs: number;
  review: ReviewDigest;
}

const EMPTY_REVIEW: ReviewDigest = {
  verdict: null,
  recommendation: null,
  file: null,
  trendDigest: '',
  risks: '',
  nextAction: '',
};

/**
 * Reads what an external agent wrote and says what is wrong with it; the workflow decides (§2.4,
 * §3.4). Flags the engine wrote itself (`writer: engine`, such as a reviewer's TIMEOUT) are left out.
 */
export async function readExternalFlags(input: {
  root: string;
  session: number;
  names: string[];
  readyAtMs: number;
}): Promise<ExternalFlagInfo[]> {
  // External agents get no values from the worker; a key variable a person pastes is still redacted.
  const redact = secretRedactor([]);
  const out: ExternalFlagInfo[] = [];
  for (const name of input.names) {
    const isReview = name.endsWith('.md');
    const path = `${isReview ? reviewsDir(input.session) : flagsDir(input.session)}/${name}`;
    const base: ExternalFlagInfo = {
      name,
      path,
      kind: isReview ? 'review' : 'flag',
      flag: null,
      problem: null,
      artifactOk: false,
      writtenBeforeReady: false,
      mtimeMs: 0,
      review: EMPTY_REVIEW,
    };
    if (/[/\\]|^\.\.?$/.test(name)) {
      out.push({ ...base, problem: { code: 'FLAG_NAME_INVALID', message: `${name} is not a file name` } });
      continue;
    }
    if (isReview) {
      const gate = await artifactGate(input.root, path);
      out.push({
        ...base,
        artifactOk: gate.ok,
        review: gate.ok ? readReview(await readAgentFile(input.root, path, redact), path) : EMPTY_REVIEW,
      });
      continue;
    }
    const info = await lstatInRoot(input.root, path);
    if (info === 'absent' || info === 'outside' || !info.isFile()) {
      const what =
        info === 'absent' ? 'does not exist' : info === 'outside' ? 'leads outside the root' : 'is not a regular file';
      out.push({ ...base, problem: { code: 'FLAG_NAME_INVALID', message: `${path} ${what}` } });
      continue;
    }
    const text = await readAgentFile(input.root, path, redact);
    if (isEngineFlagBody(text)) continue;
    const flag = parseFlagName(name);
    if (!flag) {
      const lenient = readFlagName(name);
      out.push({
        ...base,
        problem: {
          code: lenient.flag ? 'FLAG_NAME_INVALID' : (lenient.issues[0]?.code ?? 'FLAG_NAME_INVALID'),
          message: `${name}: not a strict flag name ({AGENT}-SESSION{NNN}-{ROLE}-{STATUS}.flag)`,
        },
      });
      continue;
    }
    if (flag.session !== input.session) {
      out.push({
        ...base,
        flag,
        problem: {
          code: 'FLAG_WRONG_SESSION',
          message: `${name} names session ${sessionLabel(flag.session)} but sits in session ${sessionLabel(input.session)}`,
        },
      });
      continue;
    }
    const body = parseFlagBody(text);
    const mismatch = checkBodyIdentity(flag, body.fields);
    if (mismatch.length) {
      out.push({
        ...base,
        flag,
        problem: {
          code: 'FLAG_BODY_MISMATCH',
          message: `${name}: body says ${mismatch.map((m) => `${m.field} ${m.body}`).join(', ')}`,
        },
      });
      continue;
    }
    let artifactOk = false;
    let review = EMPTY_REVIEW;
    if (flag.status === 'DONE' || flag.status === 'BLOCKED' || flag.status === 'ABSTAIN') {
      const reviewFile = reviewPath(flag.agent, input.session, flag.status);
      const gate = await artifactGate(input.root, reviewFile);
      artifactOk = gate.ok;
      if (gate.ok) review = readReview(await readAgentFile(input.root, reviewFile, redact), reviewFile);
    }
    out.push({
      ...base,
      flag,
      artifactOk,
      review,
      mtimeMs: info.mtimeMs,
      writtenBeforeReady: info.mtimeMs < input.readyAtMs - 1000,
    });
  }
  // Several files in one batch are taken in the order they were written, a start before an end.
  const rank = (i: ExternalFlagInfo) =>
    ['STANDBY', 'RUNNING', 'HEARTBEAT', 'DONE', 'BLOCKED', 'ABSTAIN'].indexOf(i.flag?.status ?? '');
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || rank(a) - rank(b));
}

/** After the gate: the workspace must still equal `candidate`, protected files the baseline. */
export async function checkWorkspace(input: {
  config: LoopConfig;
  session: number;
}): Promise<{ workspaceChanged: string[]; protectedChanged: string[] }> {
  const { config, session } = input;
  // No candidate when the executor left a symlink in the workspace: nothing to compare with.
  const hasCandidate = await lstat(resolveInRoot(config.root, variantManifestPath(session, 'candidate'))).then(
    () => true,
    () => false,
  );
  const workspaceChanged =
    config.workspace.length && hasCandidate
      ? await compareWithVariant(config.root, candidateVariantDir(session), config.workspace, 'copied')
      : [];
  const protectedChanged = config.protected.length
    ? await compareWithVariant(config.root, baselineVariantDir, config.protected, 'untouched')
    : [];
  return { workspaceChanged, protectedChanged };
}

export async function restore(input: {
  root: string;
  session: number;
  variantDir: string;
  globs: string[];
  approvalReference: string;
  reason: string;
  createdAt: string;
}): Promise<RestoreResult> {
  return restoreVariant(input);
}
