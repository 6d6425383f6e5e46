import { flagsDir, flagsRoot, parseSessionFolder, reviewsRoot, sessionFolderName, sessionsRoot } from './layout.js';
import {
  type FlagEvent,
  type LifecycleContext,
  applyEvent,
  endOfTrailFindings,
  initialSessionState,
  isSessionClosed,
} from './lifecycle.js';
import { type FolderMode, makeFinding } from './finding.js';
import type { Finding } from './schemas/finding.js';
import { BUILTIN_SUPERVISOR, type Role } from './vocabulary.js';
import {
  escapeFindings,
  type LoopFiles,
  readLoopFiles,
  summaryFindings,
  variantFindings,
} from './validate/loop-files.js';
import { gateHolds, reviewFiles, sessionArtifactFindings } from './validate/session-artifacts.js';
import { collectTrail, type TrailItem } from './validate/session-trail.js';
import { type LoopFolderSnapshot, SnapshotIndex } from './validate/snapshot.js';
import { orderTrail } from './validate/trail-order.js';
import { dominantOffset } from './timestamp.js';

export type { LoopFolderSnapshot, SnapshotEntry } from './validate/snapshot.js';

/**
 * `loop-station validate`: audits a `loop_station/` folder against docs/protocol.md#validate, engine
 * written or hand-run. Pure: the caller reads the disk into a snapshot. Linear in the folder size.
 */

export interface ValidateOptions {
  /** Every warning becomes an error (`validate --strict`). @default false */
  strict?: boolean;
  /** sha256 of a file's text, for snapshot entries that carry content but no hash. */
  sha256?: (text: string) => string;
}

interface SessionOutcome {
  /** Where the session became closed for good; null if it never did. */
  closedAt: TrailItem | null;
  executorEnded: boolean;
  closed: boolean;
}

/** `a` happened before `b`, by seq when both have one, else by time; overlapping times count as before. */
function happenedBefore(a: TrailItem, b: TrailItem): boolean {
  if (a.seq !== null && b.seq !== null) return a.seq < b.seq;
  return a.at === null || b.at === null || a.at.startMs < b.at.startMs + b.at.spanMs;
}

function sessionNumbers(index: SnapshotIndex, mode: FolderMode, findings: Finding[]): number[] {
  const numbers = new Set<number>();
  for (const root of [flagsRoot, sessionsRoot, reviewsRoot]) {
    for (const name of index.list(root)) {
      const path = `${root}/${name}`;
      const folder = parseSessionFolder(name);
      if (root === flagsRoot && index.get(path)?.kind === 'file') {
        findings.push(
          makeFinding(
            mode,
            'FLAG_WRONG_SESSION',
            { session: null, file: path },
            `${name} sits in flags/ outside any session folder`,
            'move it into flags/session_NNN of its session',
          ),
        );
      } else if (!folder) {
        if (root === flagsRoot)
          findings.push(
            makeFinding(
              mode,
              'FLAG_NAME_INVALID',
              { session: null, file: path },
              `${name} in flags/ is not a session_NNN folder`,
              'remove it, or rename it session_NNN',
            ),
          );
      } else if (folder.session > 0) numbers.add(folder.session);
    }
  }
  // The index reads an unpadded folder under its canonical name (canonicalSessionPath).
  for (const [canonical, written] of index.renamedFolders) {
    const name = written.slice(written.lastIndexOf('/') + 1);
    const { session } = parseSessionFolder(name)!;
    findings.push(
      makeFinding(
        mode,
        'LEGACY_FLAG_NAME',
        { session, file: written },
        `folder ${name} is written ${sessionFolderName(session)} by the engine: read as ${canonical}`,
        'nothing to do for an original folder',
      ),
    );
  }
  return [...numbers].sort((a, b) => a - b);
}

/** A finding's paths as the folder spells them (a session folder written unpadded, §2.4). */
function asWritten(index: SnapshotIndex, f: Finding): Finding {
  if (index.renamedFolders.size === 0) return f;
  const spell = (text: string) => {
    for (const [canonical, written] of index.renamedFolders) text = text.split(`${canonical}/`).join(`${written}/`);
    return text;
  };
  return {
    ...f,
    file: f.file === null ? null : index.asWritten(f.file),
    message: spell(f.message),
    fix: spell(f.fix),
  };
}

function contextFor(
  loop: LoopFiles,
  session: number,
  items: readonly TrailItem[],
  previousSessionClosed: boolean,
): LifecycleContext {
  const active = loop.roster.entries.filter((e) => e.status === 'active' && e.session <= session);
  const fromFlags = (role: Role) =>
    items.map((i) => ('name' in i.event ? i.event.name : null)).find((n) => n?.role === role)?.agent;
  const reviewers: { token: string; required: boolean }[] = [];
  const addReviewer = (token: string, required: boolean) => {
    if (!reviewers.some((r) => r.token === token)) reviewers.push({ token, required });
  };
  loop.contract?.requiredReviewers.forEach((t) => addReviewer(t, true));
  loop.contract?.optionalReviewers.forEach((t) => addReviewer(t, false));
  active.filter((e) => e.role === 'REVIEWER').forEach((e) => addReviewer(e.agent, e.required));
  return {
    session,
    executorToken: active.find((e) => e.role === 'EXECUTOR')?.agent ?? fromFlags('EXECUTOR') ?? 'EXECUTOR',
    supervisorToken:
      active.find((e) => e.role === 'SUPERVISOR')?.agent ?? fromFlags('SUPERVISOR') ?? BUILTIN_SUPERVISOR,
    reviewers,
    previousSessionClosed,
    optionalDoneCount: loop.contract?.optionalDoneCount ?? 0,
    mode: loop.mode,
    artifactsFinal: true,
  };
}

export function validateLoopFolder(snapshot: LoopFolderSnapshot, options: ValidateOptions = {}): Finding[] {
  const index = new SnapshotIndex(snapshot, options.sha256);
  const loop = readLoopFiles(index);
  const { mode } = loop;
  const findings: Finding[] = [...loop.findings, ...escapeFindings(index, mode)];
  const numbers = sessionNumbers(index, mode, findings);
  const present = new Set(numbers);
  const last = numbers.at(-1) ?? 0;
  for (let n = 1; n < last; n++) {
    if (!present.has(n))
      findings.push(
        makeFinding(
          mode,
          'SESSION_GAP',
          { session: n, file: flagsDir(n) },
          `session ${n} is missing between 1 and ${last}`,
          'sessions are numbered without gaps: restore the missing session folders',
        ),
      );
  }
  // Names without a role take it from the roster, unless the agent plays several (no guessing).
  const rosterRoles: Record<string, Role> = {};
  const roles = new Map<string, Set<Role>>();
  for (const e of loop.roster.entries) roles.set(e.agent, (roles.get(e.agent) ?? new Set()).add(e.role));
  for (const [agent, set] of roles) if (set.size === 1) rosterRoles[agent] = [...set][0]!;
  const outcomes = new Map<number, SessionOutcome>();
  const trails = new Map(numbers.map((n) => [n, collectTrail({ session: n, mode, index, rosterRoles })]));
  // Zone-less times are read in the zone the folder's other times carry (timestamp.ts).
  const zone = dominantOffset(
    [...trails.values()].flatMap((t) => t.items.map((i) => i.stamp).filter((s) => s !== null)),
  );
  for (const n of numbers) {
    const collected = trails.get(n)!;
    const trail = { items: orderTrail(collected.items, zone), findings: collected.findings };
    // Flags the engine already disregarded (§3.4) are history, not a live problem: warnings, and
    // left out of the replay, as the engine left them out of the session.
    const { disregarded, adopted } = repairedFlags(trail.items);
    findings.push(
      ...trail.findings.map((f) =>
        disregarded.has(f.file ?? '') ? asDisregarded(f) : adopted.has(f.file ?? '') ? asAdopted(f) : f,
      ),
    );
    const running = trail.items.find(
      (i) => 'name' in i.event && i.event.name.role === 'EXECUTOR' && i.event.name.status === 'RUNNING',
    );
    const prev = outcomes.get(n - 1);
    const previousSessionClosed =
      prev === undefined ||
      (prev.closedAt !== null && (running === undefined || happenedBefore(prev.closedAt, running)));
    const ctx = contextFor(loop, n, trail.items, previousSessionClosed);
    const reviews = reviewFiles(index, n);
    let state = initialSessionState(ctx);
    let closedAt: TrailItem | null = null;
    const replayed: Finding[] = [];
    for (const item of trail.items) {
      if (disregarded.has(item.file) && 'name' in item.event) {
        const event = {
          ...item.event,
          artifactOk: gateHolds({ session: n, mode, index }, item, reviews),
        } satisfies FlagEvent;
        findings.push(...applyEvent(state, event, ctx).findings.map(asDisregarded));
        continue;
      }
      // An executor's own flag the engine adopted (same status as its own) stands for the engine's.
      const event =
        'name' in item.event
          ? ({
              ...item.event,
              ...(adopted.has(item.file) ? { isEngine: true } : {}),
              artifactOk: gateHolds({ session: n, mode, index }, item, reviews),
            } satisfies FlagEvent)
          : item.event;
      const result = applyEvent(state, event, ctx);
      state = result.state;
      replayed.push(...result.findings);
      closedAt = isSessionClosed(state) ? (closedAt ?? item) : null;
    }
    // An early close later repaired (§3.4: VIOLATION, consume, repair decision, REPAIRED) followed
    // the protocol's repair path: history, as for flags the engine disregarded.
    findings.push(
      ...(isSessionClosed(state)
        ? replayed.map((f) => (f.code === 'ORDER_SUPERVISOR_DONE_BEFORE_REVIEW' ? asRepaired(f) : f))
        : replayed),
    );
    findings.push(...endOfTrailFindings(state, ctx, !loop.ended && n === last));
    findings.push(
      ...sessionArtifactFindings(
        { session: n, mode, index, loopRoot: loop.contract?.loopOutputRoot },
        trail.items,
        reviews,
        state.selfReviewed,
      ),
    );
    outcomes.set(n, { closedAt, executorEnded: state.executorStatus !== null, closed: state.phase === 'closed' });
  }
  const anyClosed = [...outcomes.values()].some((o) => o.closed);
  findings.push(...summaryFindings(index, mode, anyClosed));
  findings.push(
    ...variantFindings(
      index,
      mode,
      numbers.filter((n) => outcomes.get(n)?.executorEnded),
    ),
  );
  const ordered = findings
    .map((f) => asWritten(index, f))
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (a.f.session ?? -1) - (b.f.session ?? -1) || a.i - b.i)
    .map((x) => x.f);
  return options.strict ? ordered.map((f) => ({ ...f, severity: 'error' })) : ordered;
}

/**
 * Files an engine SUPERVISOR-VIOLATION names as its `subject` and a later engine REPAIRED repairs:
 * with `reason: disregarded` (a rejected external flag, §3.4), or `reason: adopted` (an executor's
 * own flag the engine kept as its own, §2.3).
 */
function repairedFlags(items: readonly TrailItem[]): { disregarded: Set<string>; adopted: Set<string> } {
  const disregarded = new Set<string>();
  const adopted = new Set<string>();
  const open = new Map<string, string[]>();
  for (const item of items) {
    if (!('name' in item.event) || !item.event.isEngine || item.event.name.role !== 'SUPERVISOR') continue;
    const fields = item.body?.fields;
    if (item.event.name.status === 'VIOLATION' && fields?.code && fields.subject)
      open.set(fields.code, [...(open.get(fields.code) ?? []), fields.subject]);
    const kept = fields?.reason === 'adopted';
    if (item.event.name.status === 'REPAIRED' && fields?.repairs && (kept || fields.reason === 'disregarded')) {
      const subjects = open.get(fields.repairs) ?? [];
      const subject = subjects.shift();
      if (subject !== undefined) (kept ? adopted : disregarded).add(subject);
    }
  }
  return { disregarded, adopted };
}

const asDisregarded = (f: Finding): Finding => ({
  ...f,
  severity: 'warning',
  message: `${f.message} (the engine disregarded it: VIOLATION, then REPAIRED)`,
});
const asAdopted = (f: Finding): Finding => ({
  ...f,
  severity: 'warning',
  message: `${f.message} (the engine adopted it: VIOLATION, then REPAIRED)`,
});
const asRepaired = (f: Finding): Finding => ({
  ...f,
  severity: 'warning',
  message: `${f.message} (repaired: the session was closed again by SUPERVISOR-REPAIRED)`,
});

/** `engine` when contract.json carries protocol_version, else `original` (§0). */
export function detectFolderMode(snapshot: LoopFolderSnapshot): FolderMode {
  return readLoopFiles(new SnapshotIndex(snapshot)).mode;
}
