import type { ContinuityMode } from './vocabulary.js';

/**
 * Agent continuity across sessions (spec `continuity`, docs/architecture.md#agent-failures): an
 * agent with `continuity: thread` resumes the same conversation session after session, the way the
 * original's executor was one long conversation; every `rotateEvery` sessions, or when the CLI
 * reports its context full, it starts a fresh thread, which reads the compact handoff first.
 */

/** Sessions one thread lasts (continuity `thread`) before a fresh one starts from the compact handoff. */
export const DEFAULT_ROTATE_EVERY = 10;

/** One agent's thread, carried by the loop between sessions (small: an id and two numbers). */
export interface CarriedThread {
  /** The CLI's thread or session id (Codex thread id, Claude session id). */
  id: string;
  /** The session the thread started in. */
  since: number;
  /** Sessions run in it so far. */
  sessions: number;
}

/** The loop's carried threads, by threadKey. */
export type CarriedThreads = Record<string, CarriedThread>;

/** `EXECUTOR:CODEX`: one thread per agent and role. */
export const threadKey = (token: string, role: string): string => `${role}:${token}`;

export interface ContinuityOptions {
  continuity?: ContinuityMode | undefined;
  rotateEvery?: number | undefined;
}

/** The thread a session's run resumes: the carried one, when the agent keeps threads and it is not due for rotation. */
export function threadToResume(agent: ContinuityOptions, carried: CarriedThread | undefined): string | null {
  if ((agent.continuity ?? 'fresh') !== 'thread' || !carried) return null;
  if (carried.sessions >= (agent.rotateEvery ?? DEFAULT_ROTATE_EVERY)) return null;
  return carried.id;
}

export interface RunThreads {
  /** The thread the session's first run resumed, or null. */
  resumed: string | null;
  /** The thread the run ended in (AgentRunResult.sessionId), or null. */
  ended: string | null;
  /** The failure code the run ended with (`context_full` drops the thread), or null. */
  failureCode: string | null;
  session: number;
}

/**
 * The thread to carry to the next session: none for a `fresh` agent, none when the context is
 * full or the run reported no thread; the same thread one session older when the run resumed it;
 * else the run's new thread.
 */
export function carryThread(
  agent: ContinuityOptions,
  carried: CarriedThread | undefined,
  run: RunThreads,
): CarriedThread | undefined {
  if ((agent.continuity ?? 'fresh') !== 'thread' || run.ended === null || run.failureCode === 'context_full')
    return undefined;
  if (carried && run.resumed === carried.id && run.ended === carried.id)
    return { ...carried, sessions: carried.sessions + 1 };
  return { id: run.ended, since: run.session, sessions: 1 };
}
