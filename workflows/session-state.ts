import type { EmitFlagInput, ReviewFlagRowInput } from '../activities/index.js';
import type { CarriedThreads } from '../protocol/continuity.js';
import type { Amendment } from '../protocol/schemas/contract.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { BudgetLimits, SessionStop } from '../protocol/schemas/messages.js';
import type { AxisState, Best, DecisionBlock, Intervention, SessionRecord, Usage } from '../protocol/schemas/state.js';
import type { DecisionClass, StopReason } from '../protocol/vocabulary.js';

/** What crosses between the loop and one session child: its input and its result. */

/** Everything one session needs from its loop; small, so each child start stays cheap in history. */
export interface SessionInput {
  config: LoopConfig;
  loopId: string;
  lockedAt: string;
  session: number;
  seq: number;
  best: Best | null;
  axes: AxisState[];
  /** The previous decision as applied (after approvals): it decides the restore at open. */
  previous: { block: DecisionBlock; applied: DecisionClass } | null;
  recent: SessionRecord[];
  redirects: string[];
  interventions: Intervention[];
  usage: Usage;
  budget: BudgetLimits;
  /** Loop start (epoch ms, workflow time): the wall-clock budget runs from it. */
  loopStartedAtMs: number;
  stop: SessionStop | null;
  /** Best session for which the success criteria already asked the user (asked once per best). */
  successAskedFor: number | null;
  amendments: Amendment[];
  runsSinceCheckpoint: number;
  /** Whether this workflow runs on the agents' task queue, so file steps can be local activities. */
  localFiles: boolean;
  /** Agents' threads carried from earlier sessions (continuity `thread`); absent in runs before it. */
  threads?: CarriedThreads;
  /** The session markers this session takes without recording them (workflows/patches.ts `SESSION_MARKER_EPOCH`); absent in runs before it. */
  markerEpoch?: number;
}

export interface SessionOutput {
  record: SessionRecord;
  /**
   * What the loop writes to close the session (decision.md, leaderboard, summaries, then
   * SUPERVISOR-DONE): a late signal can void this workflow's completing task and make it decide
   * again, so the close is written from the result Temporal recorded. Absent in runs before it.
   */
  closing?: { rows: ReviewFlagRowInput[]; elapsedMs: number; flag: Omit<EmitFlagInput, 'rows'> };
  seq: number;
  best: Best | null;
  axes: AxisState[];
  usage: Usage;
  successAskedFor: number | null;
  /** When the decision waits for a human: the stop reason an approval would end the loop with. */
  stopReasonOnApprove: StopReason | null;
  /** This session's candidate as a best, if a human's approve may promote it (absent in runs before it). */
  candidate?: Best | null;
  /**
   * What the protocol's state machine found wrong in the engine's own steps of this session: empty,
   * unless the engine has a bug (then also logged). Absent in runs before it.
   */
  selfCheck?: string[];
  /** The agents' threads to carry to the next session (continuity `thread`); absent in runs before it. */
  threads?: CarriedThreads;
}
