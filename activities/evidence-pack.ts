import { DECISION_TRAITS } from '../protocol/decision-traits.js';
import { readRecommendation, readVerdict } from '../protocol/header-values.js';
import { closeSync, type Dirent, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import {
  baselineVariantDir,
  candidateVariantDir,
  evidenceArtifactsDir,
  evidenceDir,
  evidencePackPath,
  leaderboardPath,
  reviewsDir,
  runFilePath,
  runsDir,
  sessionFilePath,
  sessionLabel,
  variantManifestPath,
} from '../protocol/layout.js';
import {
  axisOf,
  type EvidencePackData,
  PACK_LIMITS,
  type PackDiff,
  type PackImage,
  type PackLog,
  type PackReview,
  packImagesToAttach,
  renderPackImages,
  renderPackIndex,
  renderPackLogs,
  renderPackMetrics,
  renderPackPatch,
  renderPackReviews,
} from '../protocol/evidence-pack.js';
import { parseHeaderLines, sectionBody } from '../protocol/markdown.js';
import { parseLeaderboard } from '../protocol/schemas/leaderboard.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import { type AxisState, type Best, type EvidenceResult, EvidenceResultSchema } from '../protocol/schemas/state.js';
import { diffVariantFiles, textOf, type VariantFile, variantSourceFiles } from '../protocol/variant-diff.js';
import { type Redactor, secretRedactor } from './agents/redact.js';
import { writeFilesAtomic } from './flags.js';
import { resolveInRoot } from './paths.js';
import { isAbsent, readOptionalText } from './read-optional.js';
import { stripTerminalEscapes } from '../protocol/terminal-text.js';

/**
 * Writes a session's evidence pack (docs/protocol.md#evidence-pack) from what is on disk: the code
 * variants, leaderboard.csv, metrics.json, the evidence folders, the run logs and earlier reviews.
 * Idempotent: a retry writes the same files again.
 */

export interface WriteEvidencePackInput {
  config: LoopConfig;
  session: number;
  /** The axis the executor's report names (`default` without one). */
  axis: string;
  best: Best | null;
  axes: AxisState[];
}

export interface EvidencePackResult {
  /** Root-relative README.md of the pack: what prompts point at. */
  index: string;
  /** Root-relative images for the supervisor's and reviewers' runs (candidate, best, pair by pair). */
  images: string[];
}

const IMAGE_RE = /\.(png|jpe?g|gif|webp)$/i;
const MAX_LISTED = 2000;

// The pack's reads are bounded (PACK_LIMITS) and synchronous: see SYNC_IO_MAX_BYTES.
function isFile(root: string, rel: string): number | null {
  try {
    const info = lstatSync(resolveInRoot(root, rel));
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

/** Files under `dir` (root-relative), recursively, never following links; at most MAX_LISTED. */
function listFiles(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(resolveInRoot(root, rel), { withFileTypes: true });
    } catch (error) {
      if (isAbsent(error)) return;
      throw error;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (out.length >= MAX_LISTED) return;
      if (e.isDirectory()) visit(`${rel}/${e.name}`);
      else if (e.isFile()) out.push(`${rel}/${e.name}`);
    }
  };
  visit(dir);
  return Promise.resolve(out);
}

async function readVariant(root: string, dir: string): Promise<Map<string, string> | null> {
  const text = await readOptionalText(root, `${dir}/manifest.json`);
  if (text === null) return null;
  try {
    return variantSourceFiles(JSON.parse(text));
  } catch {
    return null;
  }
}

async function readVariantFile(root: string, dir: string, copy: string | undefined): Promise<VariantFile> {
  if (copy === undefined) return { kind: 'missing' };
  const size = isFile(root, `${dir}/${copy}`);
  if (size === null) return { kind: 'missing' };
  if (size > PACK_LIMITS.diffFileBytes) return { kind: 'binary', size };
  const text = textOf(readFileSync(resolveInRoot(root, `${dir}/${copy}`)));
  return text === null ? { kind: 'binary', size } : { kind: 'text', text };
}

async function packDiff(root: string, against: string, from: string, to: string): Promise<PackDiff> {
  const [a, b] = await Promise.all([readVariant(root, from), readVariant(root, to)]);
  if (!b) return { against, from, to: null, missing: 'this session has no candidate variant', files: [] };
  if (!a) return { against, from: null, to, missing: `${from} has no manifest.json`, files: [] };
  const files = await diffVariantFiles(
    [...a.keys(), ...b.keys()],
    (side, path) =>
      side === 'from' ? readVariantFile(root, from, a.get(path)) : readVariantFile(root, to, b.get(path)),
    {
      names: (path) => ({ from: path, to: path, fromHeader: from, toHeader: to }),
      maxFiles: PACK_LIMITS.diffFiles,
    },
  );
  return { against, from, to, missing: null, files };
}

async function diffs(input: WriteEvidencePackInput): Promise<EvidencePackData['diffs']> {
  const { config, session, best } = input;
  const root = config.root;
  const candidate = candidateVariantDir(session);
  const bestDir = best?.variant ?? baselineVariantDir;
  const bestWho =
    best && best.session !== 0 ? `the best (session ${sessionLabel(best.session)})` : 'the baseline (session 000)';
  const previous = session - 1;
  const previousDir =
    previous >= 1 && isFile(root, variantManifestPath(previous, 'candidate')) !== null
      ? candidateVariantDir(previous)
      : baselineVariantDir;
  const previousWho =
    previousDir === baselineVariantDir
      ? 'the baseline (session 000)'
      : `the previous session's candidate (session ${sessionLabel(previous)})`;
  const [bestDiff, previousDiff] = await Promise.all([
    packDiff(root, bestWho, bestDir, candidate),
    packDiff(root, previousWho, previousDir, candidate),
  ]);
  return { best: bestDiff, previous: previousDiff };
}

async function images(
  root: string,
  session: number,
  best: Best | null,
): Promise<Pick<EvidencePackData, 'images' | 'imagesLeftOut' | 'otherArtifacts'>> {
  const dir = evidenceDir(session);
  const files = await listFiles(root, dir);
  const found: PackImage[] = [];
  for (const path of files.filter((f) => IMAGE_RE.test(f))) {
    const name = path.slice(dir.length + 1);
    const counterpart = best ? `${evidenceDir(best.session)}/${name}` : null;
    const bestExists = counterpart !== null && isFile(root, counterpart) !== null;
    found.push({
      name,
      candidate: path,
      best: bestExists ? counterpart : null,
      bytes: isFile(root, path) ?? 0,
    });
  }
  // Pairs first: they are the comparison.
  found.sort((a, b) => Number(b.best !== null) - Number(a.best !== null) || (a.name < b.name ? -1 : 1));
  const artifacts = evidenceArtifactsDir(session);
  return {
    images: found.slice(0, PACK_LIMITS.imagePairs),
    imagesLeftOut: Math.max(0, found.length - PACK_LIMITS.imagePairs),
    otherArtifacts: files.filter((f) => f.startsWith(`${artifacts}/`) && !IMAGE_RE.test(f)).slice(0, 50),
  };
}

/** The last lines of a log (terminal escapes removed, the run's secrets redacted). */
async function tail(root: string, title: string, path: string, redact: Redactor): Promise<PackLog> {
  const size = isFile(root, path);
  if (size === null) return { title, path, lines: [], truncated: false, missing: true };
  const start = Math.max(0, size - PACK_LIMITS.logBytes);
  const fd = openSync(resolveInRoot(root, path), 'r');
  let text: string;
  try {
    const buffer = Buffer.alloc(size - start);
    const read = readSync(fd, buffer, 0, buffer.length, start);
    text = buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
  let lines = redact(stripTerminalEscapes(text)).split(/\r?\n/);
  if (start > 0) lines = lines.slice(1);
  if (lines.at(-1) === '') lines.pop();
  const truncated = start > 0 || lines.length > PACK_LIMITS.logLines;
  return { title, path, lines: lines.slice(-PACK_LIMITS.logLines), truncated, missing: false };
}

/** The reviews of one closed session, as the pack quotes them (`carried`: see carriedSessions). */
async function sessionReviews(
  root: string,
  row: EvidencePackData['history'][number],
  carried: boolean,
  redact: Redactor,
): Promise<PackReview[]> {
  // Reviews are agent text: the next reviewer reads this pack, so secrets and terminal escapes stay out.
  const clean = (text: string) => redact(stripTerminalEscapes(text));
  const dir = reviewsDir(row.session);
  const names = (await listFiles(root, dir)).filter((f) => f.endsWith('.md'));
  const out: PackReview[] = [];
  for (const file of names) {
    const text = clean((await readOptionalText(root, file)) ?? '');
    const h = parseHeaderLines(text);
    const next = (sectionBody(text, 'Recommended Next Action') ?? '').trim();
    out.push({
      session: row.session,
      agent: h.agent?.trim() || file.slice(dir.length + 1).split('-')[0]!,
      // As the engine read them (`**Unsupported** (noise)` is unsupported); else as written.
      verdict: readVerdict(h.verdict ?? '') ?? (h.verdict?.trim() || h.status?.trim() || 'not recorded'),
      recommendation: readRecommendation(h.recommendation ?? '') ?? (h.recommendation?.trim() || 'not recorded'),
      decision: row.class,
      file,
      nextAction: next.length > PACK_LIMITS.reviewChars ? `${next.slice(0, PACK_LIMITS.reviewChars - 1)}…` : next,
      carried,
    });
  }
  return out;
}

/**
 * The latest reviewed sessions among `rows` (the latest first), at most PACK_LIMITS.reviewSessions
 * of them, with their reviews.
 */
async function reviewsOfRows(
  root: string,
  rows: EvidencePackData['history'],
  carried: boolean,
  redact: Redactor,
): Promise<PackReview[]> {
  const out: PackReview[] = [];
  let sessions = 0;
  for (const row of rows) {
    if (sessions >= PACK_LIMITS.reviewSessions) break;
    const found = await sessionReviews(root, row, carried, redact);
    if (found.length) sessions++;
    out.push(...found);
  }
  return out;
}

/**
 * The earlier sessions whose changes the workspace this session started from still held, the latest
 * first: those after the best that were not promoted, back to the last whose decision restored the
 * best's workspace (DECISION_TRAITS restoresBest: the next session opened on the best again). Their
 * changes are in this candidate's diff against the best, so a veto of them holds for it too.
 */
export function carriedSessions(history: EvidencePackData['history'], best: Best | null): number[] {
  const out: number[] = [];
  for (const row of [...history].sort((a, b) => b.session - a.session)) {
    if (row.session === 0 || (best !== null && row.session <= best.session) || row.best_session === row.session) break;
    if (row.class !== 'baseline' && DECISION_TRAITS[row.class].restoresBest) break;
    out.push(row.session);
    if (out.length >= PACK_LIMITS.reviewLookback) break;
  }
  return out;
}

/** The reviews of the sessions the candidate carries, then those of the latest earlier sessions on the axis. */
async function earlierReviews(
  root: string,
  axis: string,
  history: EvidencePackData['history'],
  carried: readonly number[],
  redact: Redactor,
): Promise<PackReview[]> {
  const latestFirst = history.filter((r) => r.session > 0).reverse();
  const carriedRows = latestFirst.filter((r) => carried.includes(r.session));
  const onAxis = latestFirst
    .filter((r) => axisOf(r) === axis)
    .slice(0, PACK_LIMITS.reviewLookback)
    .filter((r) => !carried.includes(r.session));
  const [fromCarried, fromAxis] = await Promise.all([
    reviewsOfRows(root, carriedRows, true, redact),
    reviewsOfRows(root, onAxis, false, redact),
  ]);
  return [...fromCarried, ...fromAxis];
}

function readMetrics(text: string | null): EvidenceResult | null {
  if (text === null) return null;
  try {
    const parsed = EvidenceResultSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function writeEvidencePack(input: WriteEvidencePackInput): Promise<EvidencePackResult> {
  const { config, session, best } = input;
  const root = config.root;
  const board = await readOptionalText(root, leaderboardPath);
  const history = board === null ? [] : parseLeaderboard(board).rows.filter((r) => r.session < session);
  const exec = config.executor.token;
  // Every agent's allowed variables: a reviewer may quote its own in the reviews this pack carries.
  const redact = secretRedactor([
    ...config.env,
    ...config.executor.env,
    ...config.reviewers.flatMap((r) => r.env),
    ...(config.supervisor?.env ?? []),
  ]);
  // The pack's sources are read at once: none depends on another, and none is written here.
  const [current, packDiffs, packImages, logs] = await Promise.all([
    readOptionalText(root, sessionFilePath(session, 'metrics')),
    diffs(input),
    images(root, session, best),
    Promise.all([
      tail(root, `Executor ${exec}: output`, runFilePath(session, exec, 'EXECUTOR', 'log'), redact),
      tail(root, `Executor ${exec}: stderr`, `${runsDir(session)}/${exec}-EXECUTOR.stderr.log`, redact),
      tail(root, 'Evidence command: stdout', `${runsDir(session)}/evidence.stdout.log`, redact),
      tail(root, 'Evidence command: stderr', `${runsDir(session)}/evidence.stderr.log`, redact),
    ]),
  ]);
  // Then the reviews: which sessions' changes the candidate carries needs its diff against the best
  // (none differs: whatever they changed was undone).
  const carried = packDiffs.best.files.length ? carriedSessions(history, best) : [];
  const reviews = await earlierReviews(root, input.axis, history, carried, redact);
  const data: EvidencePackData = {
    session,
    axis: input.axis,
    metric: config.evidence.metric,
    direction: config.evidence.direction,
    command: config.evidence.command,
    best: best ? { session: best.session, value: best.value, metrics: best.metrics } : null,
    current: readMetrics(current),
    history,
    axes: input.axes,
    diffs: packDiffs,
    carried,
    ...packImages,
    logs,
    reviews,
  };
  const files: [Parameters<typeof evidencePackPath>[1], string][] = [
    ['diffBest', renderPackPatch(session, data.diffs.best)],
    ['diffPrevious', renderPackPatch(session, data.diffs.previous)],
    ['metrics', renderPackMetrics(data)],
    ['images', renderPackImages(data)],
    ['logs', renderPackLogs(data)],
    ['reviews', renderPackReviews(data)],
    // The index last: a pack with an index is complete.
    ['index', renderPackIndex(data)],
  ];
  // The parts at once (their fsyncs overlap), the index only once they are in place.
  const entry = ([file, text]: (typeof files)[number]) => [evidencePackPath(session, file), text] as const;
  await writeFilesAtomic(root, [files.slice(0, -1).map(entry), files.slice(-1).map(entry)]);
  return { index: evidencePackPath(session, 'index'), images: packImagesToAttach(data.images) };
}
