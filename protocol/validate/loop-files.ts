import {
  AGENT_ROSTER,
  EXECUTOR_BRIEF,
  FINAL_SUMMARY,
  FRAME,
  LOG_TREND_SUMMARY,
  REVIEWER_ROLLUP,
  ROLLING_SUMMARY,
  SESSION_LEDGER,
  type ArtifactParts,
} from '../artifact-sections.js';
import {
  codeVariantsDir,
  contractPath,
  finalSummaryPath,
  framePath,
  leaderboardPath,
  loopStationDir,
  parseSessionFolder,
  rosterPath,
  sessionFilePath,
  sessionFolderName,
  sessionLabel,
  sessionsRoot,
  summaryPath,
  type SummaryFile,
} from '../layout.js';
import { parseHeaderLines } from '../markdown.js';
import { type ParsedRoster, parseAgentRoster } from '../render/agent-roster.js';
import { type ContractView, readContract } from '../schemas/contract.js';
import { type FindingCode, type FolderMode, makeFinding } from '../finding.js';
import type { Finding } from '../schemas/finding.js';
import { parseLeaderboard } from '../schemas/leaderboard.js';
import { RestoreManifestSchema, VariantManifestSchema } from '../schemas/variant-manifest.js';
import { sectionFindings } from './session-artifacts.js';
import type { SnapshotIndex } from './snapshot.js';

/** Loop-level files: contract, frame, roster, summaries, leaderboard, final summary, code variants. */

export interface LoopFiles {
  mode: FolderMode;
  contract: ContractView | null;
  roster: ParsedRoster;
  /** FINAL_SUMMARY.md exists: the loop has ended. */
  ended: boolean;
  findings: Finding[];
}

const loopFinding = (mode: FolderMode, code: FindingCode, file: string | null, message: string, fix: string) =>
  makeFinding(mode, code, { session: null, file }, message, fix);

export function readLoopFiles(index: SnapshotIndex): LoopFiles {
  const findings: Finding[] = [];
  const contractText = index.text(contractPath);
  const read = contractText === undefined ? null : readContract(contractText);
  const mode: FolderMode = read?.view?.protocolVersion ? 'engine' : 'original';
  if (!read)
    findings.push(
      loopFinding(
        mode,
        'ARTIFACT_MISSING',
        contractPath,
        'contract.json is missing',
        'restore contract.json; the engine writes it at frame lock (docs/protocol.md#contract)',
      ),
    );
  else findings.push(...read.findings);
  const frame = index.text(framePath);
  if (frame === undefined)
    findings.push(
      loopFinding(
        mode,
        'ARTIFACT_MISSING',
        framePath,
        'FRAME.md is missing',
        'restore FRAME.md; the engine writes it at frame lock',
      ),
    );
  else {
    findings.push(...sectionFindings(mode, null, framePath, frame, FRAME));
    if (!/^# Loop Frame\s*$/m.test(frame) || !frameLocked(mode, frame)) {
      findings.push(
        loopFinding(
          mode,
          'ARTIFACT_SECTIONS_MISSING',
          framePath,
          'FRAME.md lacks the `# Loop Frame` title or the `FRAME LOCKED <time>` line',
          'start FRAME.md with `# Loop Frame` and `FRAME LOCKED <time>`',
        ),
      );
    }
  }
  const rosterText = index.text(rosterPath);
  let roster: ParsedRoster = { entries: [], problems: [] };
  if (rosterText === undefined)
    findings.push(
      loopFinding(
        mode,
        'ARTIFACT_MISSING',
        rosterPath,
        'agent_roster.md is missing',
        'restore agent_roster.md with its roster table (docs/protocol.md#layout)',
      ),
    );
  else {
    roster = parseAgentRoster(rosterText);
    for (const p of roster.problems)
      findings.push(
        loopFinding(
          mode,
          'ARTIFACT_SECTIONS_MISSING',
          rosterPath,
          `agent_roster.md: ${p}`,
          'keep the columns agent, model/version, instruction profile, role, required, session, status, notes',
        ),
      );
    findings.push(...sectionFindings(mode, null, rosterPath, rosterText, AGENT_ROSTER));
  }
  const finalPath = index.firstExisting([finalSummaryPath, 'FINAL_SUMMARY.md']);
  if (finalPath) findings.push(...sectionFindings(mode, null, finalPath, index.text(finalPath), FINAL_SUMMARY));
  return { mode, contract: read?.view ?? null, roster, ended: finalPath !== undefined, findings };
}

/**
 * `FRAME LOCKED <time>` on a line of its own; the original's template states the lock as a
 * `frame_locked: true` header line instead, and its agents often write the words in a note.
 */
function frameLocked(mode: FolderMode, frame: string): boolean {
  if (/^FRAME LOCKED \S+/m.test(frame)) return true;
  return (
    mode === 'original' &&
    (/\bFRAME LOCKED\b/.test(frame) ||
      /^(?:true|yes)$/i.test((parseHeaderLines(frame).frame_locked ?? '').replace(/[`*]/g, '').trim()))
  );
}

const SUMMARY_PARTS: readonly [SummaryFile, ArtifactParts][] = [
  ['rollingSummary', ROLLING_SUMMARY],
  ['sessionLedger', SESSION_LEDGER],
  ['executorBrief', EXECUTOR_BRIEF],
  ['logTrendSummary', LOG_TREND_SUMMARY],
  ['reviewerRollup', REVIEWER_ROLLUP],
];

/** Summaries and leaderboard, required once any session closed (§3.2, §6, §8). */
export function summaryFindings(index: SnapshotIndex, mode: FolderMode, anyClosed: boolean): Finding[] {
  const out: Finding[] = [];
  for (const [file, parts] of SUMMARY_PARTS) {
    const path = summaryPath(file);
    const text = index.text(path);
    if (text === undefined && anyClosed)
      out.push(
        loopFinding(
          mode,
          'ARTIFACT_MISSING',
          path,
          `${path.slice(path.lastIndexOf('/') + 1)} is missing though sessions closed`,
          'summaries are rendered before every close: resume the loop, or re-render them from the session folders',
        ),
      );
    out.push(...sectionFindings(mode, null, path, text, parts));
  }
  const board = index.firstExisting([leaderboardPath, 'leaderboard.csv']);
  if (!board && anyClosed && mode === 'engine')
    out.push(
      loopFinding(
        mode,
        'ARTIFACT_MISSING',
        leaderboardPath,
        'leaderboard.csv is missing though sessions closed',
        'the engine appends a row per session: restore leaderboard.csv',
      ),
    );
  const boardText = board === undefined ? undefined : index.text(board);
  if (board && boardText !== undefined) {
    const parsed = parseLeaderboard(boardText);
    // The engine appends a row only when it closes a session: a row without its decision.md was written by someone else.
    if (mode === 'engine')
      for (const row of parsed.rows.filter((r) => r.session > 0 && !index.text(sessionFilePath(r.session, 'decision'))))
        out.push(
          makeFinding(
            mode,
            'ARTIFACT_MISSING',
            { session: row.session, file: board },
            `leaderboard.csv row ${sessionLabel(row.session)} has no ${sessionFilePath(row.session, 'decision')} behind it`,
            'the engine writes a row only when it closes that session: remove the row, or restore the session folder',
          ),
        );
    for (const p of parsed.problems)
      out.push(
        loopFinding(
          mode,
          'ARTIFACT_SECTIONS_MISSING',
          board,
          `leaderboard.csv ${p}`,
          'keep the §6 columns and one row per session',
        ),
      );
  }
  return out;
}

/** Every manifest.json and restore manifest: schema and copy hashes (§7); engine folders need baseline and candidates. */
export function variantFindings(
  index: SnapshotIndex,
  mode: FolderMode,
  candidateSessions: readonly number[],
): Finding[] {
  const out: Finding[] = [];
  const add = (session: number | null, file: string, message: string, fix: string) =>
    out.push(makeFinding(mode, 'VARIANT_MANIFEST_INVALID', { session, file }, message, fix));
  const base = index.firstExisting([codeVariantsDir, 'code_variants']) ?? codeVariantsDir;
  const manifests = new Set<string>();
  for (const folder of index.list(base)) {
    const session = parseSessionFolder(folder)?.session ?? null;
    for (const slug of index.list(`${base}/${folder}`)) {
      const dir = `${base}/${folder}/${slug}`;
      const path = `${dir}/manifest.json`;
      manifests.add(`${session}|${slug}`);
      const text = index.text(path);
      if (text === undefined) {
        add(
          session,
          path,
          `${dir} has no readable manifest.json`,
          'the engine writes manifest.json last: re-snapshot the variant',
        );
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        add(session, path, `manifest.json is not JSON: ${(error as Error).message}`, 're-snapshot the variant');
        continue;
      }
      const parsed = VariantManifestSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        add(
          session,
          path,
          `manifest.json: ${issue.path.join('.')}: ${issue.message}`,
          'correct the manifest (docs/protocol.md#code-variants)',
        );
        continue;
      }
      for (const f of parsed.data.source_files) {
        const copy = `${dir}/files/${f.path}`;
        const entry = index.get(copy);
        if (!entry) add(session, copy, `${f.path} is listed but has no copy under files/`, 're-snapshot the variant');
        else if (entry.kind !== 'file')
          add(
            session,
            copy,
            `${copy} is a ${entry.kind}; variants hold byte copies only`,
            'replace the link with the file it points to and re-snapshot',
          );
        else {
          const sha = index.sha256(copy);
          if (sha !== undefined && sha !== f.sha256_before_copy)
            add(
              session,
              copy,
              `${copy} hashes ${sha.slice(0, 12)}…, the manifest says ${f.sha256_before_copy.slice(0, 12)}…`,
              'a copy hashes as its source: re-snapshot the variant',
            );
        }
      }
    }
  }
  if (mode === 'engine') {
    if (candidateSessions.length && !manifests.has('0|baseline'))
      add(
        0,
        `${codeVariantsDir}/session_000/baseline/manifest.json`,
        'the baseline variant is missing',
        'the engine snapshots the baseline at frame lock: re-lock or restore it',
      );
    for (const n of candidateSessions) {
      if (!manifests.has(`${n}|candidate`))
        add(
          n,
          `${codeVariantsDir}/${sessionFolderName(n)}/candidate/manifest.json`,
          `session ${n} has an executor terminal but no candidate variant`,
          'the engine snapshots candidate after each executor terminal: restore it',
        );
    }
  }
  for (const folder of index.list(sessionsRoot)) {
    const session = parseSessionFolder(folder)?.session ?? null;
    for (const name of index
      .list(`${sessionsRoot}/${folder}`)
      .filter((n) => /^restore_manifest(-\d+)?\.json$/.test(n))) {
      const path = `${sessionsRoot}/${folder}/${name}`;
      let ok: string | null = null;
      try {
        const parsed = RestoreManifestSchema.safeParse(JSON.parse(index.text(path) ?? ''));
        if (!parsed.success) ok = `${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`;
        else if (!parsed.data.restore_verified) ok = 'restore_verified is false';
      } catch (error) {
        ok = (error as Error).message;
      }
      if (ok)
        add(
          session,
          path,
          `${name}: ${ok}`,
          'restore again from the variant and let the engine re-verify (docs/protocol.md#restore-manifest)',
        );
    }
  }
  return out;
}

/** Symlinks anywhere under the folder that resolve outside the root (§0). */
export function escapeFindings(index: SnapshotIndex, mode: FolderMode): Finding[] {
  return Object.entries(index.entries)
    .filter(([, e]) => e.kind === 'symlink' && e.symlinkEscapes)
    .map(([path]) =>
      loopFinding(
        mode,
        'PATH_ESCAPES_ROOT',
        path,
        `${path} is a symlink that leaves the loop root`,
        `replace ${path} with a regular file inside ${loopStationDir}`,
      ),
    );
}
