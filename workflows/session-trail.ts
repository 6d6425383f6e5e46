import type { FileSteps } from './proxies.js';
import type { EmitFlagInput, FlagFields, ReviewFlagRowInput } from '../activities/index.js';
import type { Role, Status } from '../protocol/vocabulary.js';
import { type FlagName, formatFlagName, parseFlagName } from '../protocol/flag-name.js';
import {
  applyEvent,
  applyFlag,
  initialSessionState,
  markArtifactPresent,
  type LifecycleContext,
  type LifecycleEvent,
  type SessionState,
} from '../protocol/lifecycle.js';
import type { Finding } from '../protocol/schemas/finding.js';
import type { ReviewRecord } from '../protocol/schemas/review-flags.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { Wait } from '../protocol/schemas/flag-body.js';

/** How an engine flag is written: at another `-k` than its turn, or over an agent's flag it adopts (sha256). */
export interface FlagPlacement {
  occurrence?: number;
  adopt?: string;
}

/** The `wait` line of READY and reviewer RUNNING flags (docs/protocol.md#flag-bodies). */
export function waitPolicy(config: LoopConfig): Wait {
  const w = config.reviewWait;
  return {
    startSeconds: w.startMs / 1000,
    doneSeconds: w.doneMs / 1000,
    heartbeatSeconds: w.heartbeatMs / 1000,
    skipOnTimeout: w.skipOnTimeout,
  };
}

type RestoreInput = Parameters<FileSteps['restore']>[0];

/** A violation the supervisor flags and repairs at once: VIOLATION, its record, the repair, REPAIRED, its record. */
export interface ViolationRepair {
  /** The supervisor's token: it writes both flags. */
  by: string;
  code: string;
  subject: string;
  /** The VIOLATION flag's reason, and what its review_flags.md record says. */
  reason: string;
  noted: string;
  /** The restore that repairs it, its result checked before REPAIRED is written; none when the flag is only disregarded. */
  restore?: {
    input: Omit<RestoreInput, 'createdAt'>;
    check: (restored: Awaited<ReturnType<FileSteps['restore']>>) => void;
  };
  repaired: { reason: string; noted: string };
}

/**
 * The session's trail: every flag and record gets the next loop-wide `seq` and a row in
 * review_flags.md, in the order the workflow decides (docs/protocol.md#flag-bodies, #review-wait). Time is workflow
 * time, so a retried write is byte-identical. The trail also plays each step into the protocol's
 * one state machine (protocol/lifecycle.ts, as `validate` does), which judges external flags and
 * reports any step of the engine's own that it would find wrong.
 */
export class SessionTrail {
  readonly rows: ReviewFlagRowInput[] = [];
  private readonly occurrences = new Map<string, number>();
  private lifecycle: SessionState;
  /** Findings the state machine made on the engine's own steps: none, unless the engine has a bug. */
  readonly selfFindings: Finding[] = [];

  constructor(
    private readonly files: FileSteps,
    private readonly durable: Pick<FileSteps, 'emitFlag'>,
    private readonly root: string,
    private readonly session: number,
    public seq: number,
    private readonly ctx: LifecycleContext,
  ) {
    this.lifecycle = initialSessionState(ctx);
  }

  private observe(event: LifecycleEvent): void {
    const result = applyEvent(this.lifecycle, event, this.ctx);
    this.lifecycle = result.state;
    if ('isEngine' in event && event.isEngine)
      this.selfFindings.push(...result.findings.filter((f) => f.severity === 'error'));
  }

  /** What the state machine says of an external agent's flag now, without taking it. */
  judge(flag: FlagName, artifactOk: boolean): Finding[] {
    return applyFlag(this.lifecycle, { name: flag, isEngine: false, artifactOk }, this.ctx).findings;
  }

  now(): string {
    // Workflow time: deterministic on replay (the sandbox replaces Date).
    return new Date().toISOString();
  }

  /** Takes the next seq and row for an engine flag without writing it (the loop writes SUPERVISOR-DONE). */
  prepare(
    agent: string,
    role: Exclude<Role, 'TESTER'>,
    status: Status,
    fields: Omit<FlagFields, 'timestamp' | 'seq'>,
    meaning: string,
    artifacts: readonly string[] = [],
    placement: FlagPlacement = {},
  ): Omit<EmitFlagInput, 'rows'> {
    const key = `${agent}|${role}|${status}`;
    const occurrence = Math.max((this.occurrences.get(key) ?? 0) + 1, placement.occurrence ?? 1);
    this.occurrences.set(key, occurrence);
    this.seq += 1;
    const timestamp = this.now();
    const name = formatFlagName({ agent, session: this.session, role, status, occurrence });
    this.observe({
      name: { agent, session: this.session, role, status, occurrence },
      isEngine: true,
      ...(fields.repairs ? { repairs: this.openViolation(fields.repairs) } : {}),
    });
    this.rows.push({
      seq: this.seq,
      timestamp,
      flag: name,
      record: null,
      meaning,
      action: fields.next.length ? fields.next.join(',') : '-',
    });
    return {
      root: this.root,
      session: this.session,
      flag: { agent, session: this.session, role, status, occurrence },
      fields: { ...fields, timestamp, seq: this.seq },
      artifacts: [...artifacts],
      ...(placement.adopt !== undefined ? { adopt: placement.adopt } : {}),
    };
  }

  /** Writes one engine flag after its gate held; `artifacts` are hashed into the body by the writer. */
  async flag(
    agent: string,
    role: Exclude<Role, 'TESTER'>,
    status: Status,
    fields: Omit<FlagFields, 'timestamp' | 'seq'>,
    meaning: string,
    artifacts: readonly string[] = [],
    options: { durable?: boolean } = {},
  ): Promise<string> {
    const flag = this.prepare(agent, role, status, fields, meaning, artifacts);
    await (options.durable ? this.durable : this.files).emitFlag({ ...flag, rows: this.rows });
    return formatFlagName(flag.flag);
  }

  /**
   * An engine flag as a step of a file batch (`folded-file-steps`): its seq and row taken now, written
   * by the batch in its place among the other steps.
   */
  flagStep(
    agent: string,
    role: Exclude<Role, 'TESTER'>,
    status: Status,
    fields: Omit<FlagFields, 'timestamp' | 'seq'>,
    meaning: string,
    artifacts: readonly string[] = [],
    placement: FlagPlacement = {},
  ): { step: 'emitFlag'; input: EmitFlagInput } {
    const flag = this.prepare(agent, role, status, fields, meaning, artifacts, placement);
    return { step: 'emitFlag', input: { ...flag, rows: [...this.rows] } };
  }

  /** The violation-then-repair sequence, always in this order. */
  async violationRepaired(v: ViolationRepair): Promise<void> {
    await this.flag(
      v.by,
      'SUPERVISOR',
      'VIOLATION',
      { code: v.code, subject: v.subject, reason: v.reason, next: [] },
      `VIOLATION:${v.code}`,
    );
    this.record(`VIOLATION:${v.code}`, v.noted);
    if (v.restore) v.restore.check(await this.files.restore({ ...v.restore.input, createdAt: this.now() }));
    await this.flag(
      v.by,
      'SUPERVISOR',
      'REPAIRED',
      { repairs: v.code, reason: v.repaired.reason, next: [] },
      `REPAIRED:${v.code}`,
    );
    this.record(`REPAIRED:${v.code}`, v.repaired.noted);
  }

  /** A review_flags.md record (REVIEW_CONSUMED:CLAUDE …); written with the next flag or the close. */
  record(record: string, meaning: string, action = '-'): void {
    // The engine writes its records as KIND:SUBJECT.
    const colon = record.indexOf(':');
    this.observe({
      record: { kind: record.slice(0, colon) as ReviewRecord['kind'], subject: record.slice(colon + 1) },
    });
    this.seq += 1;
    this.rows.push({ seq: this.seq, timestamp: this.now(), flag: null, record, meaning, action });
  }

  /**
   * An external agent's own flag, accepted (its seq is that of its review_flags.md row), or the
   * review file that completes a DONE whose artifact was missing (`reviewOf`: that reviewer).
   */
  accept(flag: string, meaning: string, action = '-', options: { artifactOk?: boolean; reviewOf?: string } = {}): void {
    const parsed = parseFlagName(flag);
    if (options.reviewOf !== undefined)
      this.lifecycle = markArtifactPresent(this.lifecycle, options.reviewOf, this.ctx);
    else if (parsed) this.observe({ name: parsed, isEngine: false, artifactOk: options.artifactOk ?? true });
    this.seq += 1;
    this.rows.push({ seq: this.seq, timestamp: this.now(), flag, record: null, meaning, action });
  }

  /** The open VIOLATION flag a REPAIRED with `repairs: <code>` closes (the lifecycle pairs them by name). */
  private openViolation(code: string): string {
    const row = [...this.rows]
      .reverse()
      .find((r) => r.flag?.includes('-SUPERVISOR-VIOLATION') && r.meaning === `VIOLATION:${code}`);
    return row?.flag ?? code;
  }

  records(): string[] {
    return this.rows.filter((r) => r.record !== null).map((r) => r.record!);
  }
}
