import { formatFlagName, parseFlagName } from './flag-name.js';
import { flagsDir } from './layout.js';
import type { Status } from './vocabulary.js';

/*
 * Executor flags the executor wrote itself (docs/protocol.md#agent-written-flags). The original skill
 * tells an executor to write its start and terminal flags; the engine writes them too. What the
 * engine finds is read by inspectExecutor (an activity); what it does about it is decided here,
 * without zod: the session workflow calls it.
 */

/** An EXECUTOR flag of the session that is not the engine's as the engine wrote it (inspectExecutor's `agentFlags`). */
export interface AgentFlagFacts {
  name: string;
  /** The status the name says. */
  status: string;
  /** The status the body states, or null (an empty `touch`ed file). */
  said: string | null;
  /** The body states nothing against the name's identity. */
  agrees: boolean;
  sha256: string;
  /** The sha256 the engine wrote at this name, when the agent rewrote the engine's flag in place. */
  rewrote: string | null;
}

export interface AgentFlagViolation {
  code: 'FLAG_COLLISION' | 'FLAG_UNKNOWN_PRODUCER';
  /** The flag's root-relative path (what `validate` matches a repair with). */
  subject: string;
  /** The VIOLATION flag's reason, and the shorter line of its review_flags.md record. */
  reason: string;
  noted: string;
  /** Kept as the engine's own flag (its status agrees): REPAIRED `adopted`; else `disregarded`. */
  adopted: boolean;
  /** The executor's own HEARTBEAT, adopted as a sign of life (`executor-heartbeat-is-life`). */
  life?: boolean;
}

export interface AgentFlagJudgement {
  /** The sha256 of the agent's flag at the terminal flag's name, kept as the engine's (same status), or null. */
  adopt: string | null;
  /** The terminal flag's occurrence: 1, or the next free `-k` past an agent's flag at its name that says otherwise. */
  occurrence: number;
  /** One VIOLATION and REPAIRED each, in name order. */
  violations: AgentFlagViolation[];
}

/**
 * What the engine does with the executor's own flags when it writes the terminal flag `terminal`:
 * a flag at the terminal's name (or the engine's RUNNING rewritten in place) whose status agrees is
 * adopted, never rewritten; one that says otherwise stays untouched beside the engine's verdict,
 * which then takes the next `-k` if it would have had that name. With `heartbeatsAreLife`, a
 * HEARTBEAT the executor created under its own token, its body agreeing, is adopted too: a sign of
 * life, as the engine's own HEARTBEAT is. Each is recorded as a violation.
 */
export function judgeAgentExecutorFlags(
  flags: readonly AgentFlagFacts[],
  terminal: { agent: string; session: number; status: Status },
  options: { heartbeatsAreLife?: boolean } = {},
): AgentFlagJudgement {
  const nameAt = (occurrence: number) => formatFlagName({ ...terminal, role: 'EXECUTOR', occurrence });
  const names = new Set(flags.map((f) => f.name));
  const atName = flags.find((f) => f.name === nameAt(1));
  let occurrence = 1;
  if (atName && !atName.agrees) while (names.has(nameAt(occurrence))) occurrence++;
  const verdict = nameAt(occurrence);
  const violations = flags.map((f): AgentFlagViolation => {
    const adopted = f.agrees && (f.rewrote !== null || f === atName);
    const subject = `${flagsDir(terminal.session)}/${f.name}`;
    if (f.rewrote !== null) {
      const noted = `${f.name}: rewritten in place after the engine wrote it`;
      const hashes = `sha256 ${f.rewrote.slice(0, 12)} when written, ${f.sha256.slice(0, 12)} now`;
      return { code: 'FLAG_COLLISION', subject, reason: `${noted} (${hashes})`, noted, adopted };
    }
    const agent = parseFlagName(f.name)?.agent ?? terminal.agent;
    if (options.heartbeatsAreLife && isOwnHeartbeat(f, terminal.agent)) {
      const noted = `${f.name}: ${agent} wrote its own HEARTBEAT; a sign of life, as the engine's`;
      return { code: 'FLAG_UNKNOWN_PRODUCER', subject, reason: noted, noted, adopted: true, life: true };
    }
    const says = (f.said ?? f.status).toUpperCase();
    const noted =
      `${f.name}: ${agent} wrote an executor flag itself; only the engine writes them` +
      (adopted || says === 'RUNNING' || says === 'HEARTBEAT'
        ? ''
        : `; it says ${says}, the engine's verdict is ${terminal.status} (${verdict})`);
    return { code: 'FLAG_UNKNOWN_PRODUCER', subject, reason: noted, noted, adopted };
  });
  return { adopt: atName?.agrees ? atName.sha256 : null, occurrence, violations };
}

/** A HEARTBEAT the executor created under its own token (not a rewrite of the engine's), its body agreeing. */
export function isOwnHeartbeat(f: AgentFlagFacts, agent: string): boolean {
  const name = parseFlagName(f.name);
  return name?.status === 'HEARTBEAT' && name.agent === agent && f.agrees && f.rewrote === null;
}
