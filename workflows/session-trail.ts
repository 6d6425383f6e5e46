import type { FileSteps } from './proxies.js';
import type { EmitFlagInput, FlagFields, ReviewFlagRowInput } from '../activities/index.js';
import type { Role, Status } from '../protocol/vocabulary.js';
import { formatFlagName } from '../protocol/flag-name.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { Wait } from '../protocol/schemas/flag-body.js';

/** The `wait` line of READY and reviewer RUNNING flags (PROTOCOL.md §2.2). */
export function waitPolicy(config: LoopConfig): Wait {
  const w = config.reviewWait;
  return { startSeconds: w.startMs / 1000, doneSeconds: w.doneMs / 1000, heartbeatSeconds: w.heartbeatMs / 1000, skipOnTimeout: w.skipOnTimeout };
}


/**
 * The session's trail: every flag and record gets the next loop-wide `seq` and a row in
 * review_flags.md, in the order the workflow decides (PROTOCOL.md §2.2, §5). Time is workflow
 * time, so a retried write is byte-identical.
 */
export class SessionTrail {
  readonly rows: ReviewFlagRowInput[] = [];
  private readonly occurrences = new Map<string, number>();

  constructor(
    private readonly files: FileSteps,
    private readonly durable: Pick<FileSteps, 'emitFlag'>,
    private readonly root: string,
    private readonly session: number,
    public seq: number,
  ) {}

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
  ): Omit<EmitFlagInput, 'rows'> {
    const key = `${agent}|${role}|${status}`;
    const occurrence = (this.occurrences.get(key) ?? 0) + 1;
    this.occurrences.set(key, occurrence);
    this.seq += 1;
    const timestamp = this.now();
    const name = formatFlagName({ agent, session: this.session, role, status, occurrence });
    this.rows.push({ seq: this.seq, timestamp, flag: name, record: null, meaning, action: fields.next.length ? fields.next.join(',') : '-' });
    return {
      root: this.root,
      session: this.session,
      flag: { agent, session: this.session, role, status, occurrence },
      fields: { ...fields, timestamp, seq: this.seq },
      artifacts: [...artifacts],
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

  /** A review_flags.md record (REVIEW_CONSUMED:CLAUDE …); written with the next flag or the close. */
  record(record: string, meaning: string, action = '-'): void {
    this.seq += 1;
    this.rows.push({ seq: this.seq, timestamp: this.now(), flag: null, record, meaning, action });
  }

  /** An external agent's own flag, accepted: its seq is that of its review_flags.md row. */
  accept(flag: string, meaning: string, action = '-'): void {
    this.seq += 1;
    this.rows.push({ seq: this.seq, timestamp: this.now(), flag, record: null, meaning, action });
  }

  records(): string[] {
    return this.rows.filter((r) => r.record !== null).map((r) => r.record!);
  }
}
