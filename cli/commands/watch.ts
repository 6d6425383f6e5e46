import { type Client, sdk } from '../temporal-sdk.js';
import type { LoopResult, LoopStatus } from '../../protocol/schemas/messages.js';
import { statusQuery } from '../../workflows/messages.js';
import type { ConnectionFlags } from '../../server/connection-options.js';
import { connect, loopId } from '../connect.js';
import { ExitCode, ExitError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';
import { terminalSafe } from '../../protocol/terminal-text.js';
import { evidenceErrorNote } from '../../protocol/evidence-output.js';
import { loopElapsedMs } from './status.js';

const bar = (done: number, total: number, width = 20): string => {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
};

const elapsed = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m${two(s % 60)}s`;
};

/**
 * One line of the live view: phase, session, elapsed (see loopElapsedMs), best metric, session budget
 * bar, what the loop waits for, and an evidence failure (evidenceErrorNote).
 */
export function progressLine(s: LoopStatus, nowMs: number): string {
  const best = s.best ? `${s.metric} ${s.best.value.toFixed(3)} (session ${s.best.session})` : `${s.metric} -`;
  const pending = s.pending ? ` · ${s.pending.message}` : '';
  // A loop measuring nothing says so at a glance; the pending message may already name it (a paused baseline).
  const failed = s.evidenceError;
  const evidence = failed && !s.pending?.message.includes(failed.error) ? ` · ${evidenceErrorNote(failed)}` : '';
  const session = `session ${s.session}/${s.budget.sessions}`;
  const time = elapsed(loopElapsedMs(s, nowMs));
  const progress = bar(s.used.sessions, s.budget.sessions);
  // The pending message may quote an agent (a failure it reported): nothing in it reaches the terminal raw.
  return terminalSafe(
    `${s.workflowId} ${progress} ${session} · ${s.phase} · ${time} · best ${best}${pending}${evidence}`,
  );
}

/** Follows a loop until it ends, drawing progress on stderr; returns its result or fails with exit 1. */
export async function followLoop(
  client: Client,
  workflowId: string,
  out: Output,
  options: { quiet?: boolean; intervalMs?: number } = {},
): Promise<LoopResult> {
  const handle = client.workflow.getHandle(workflowId);
  let last = '';
  let ended = false;
  const tty = process.stderr.isTTY === true;
  const poll = async () => {
    while (!ended) {
      try {
        const status = await handle.query(statusQuery);
        // A terminal redraws the line as the clock ticks; a log gets a line only when the loop moved,
        // which the line at workflow time (elapsed = the workflow's own figure) tells.
        const moved = progressLine(status, Date.parse(status.startedAt));
        const line = progressLine(status, Date.now());
        if (!options.quiet && (tty || moved !== last)) out.log(tty ? `\x1b[2K\r${line}` : line);
        last = moved;
      } catch {
        // No worker right now, or the run is continuing as new: try again.
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 1000));
    }
  };
  const drawing = poll();
  try {
    return (await handle.result()) as LoopResult;
  } catch (error) {
    if (error instanceof sdk().WorkflowFailedError) {
      // What the step said: a regular activity's failure sits under an ActivityFailure, a session's under its child's.
      let cause: Error = error.cause ?? error;
      while ((cause instanceof sdk().ActivityFailure || cause instanceof sdk().ChildWorkflowFailure) && cause.cause)
        cause = cause.cause;
      const [what, fix] = cause.message.split('\n  fix: ');
      throw new ExitError(
        ExitCode.failed,
        `loop ${workflowId} failed: ${what}\n` +
          `  fix: ${fix ?? `read the failure in the Temporal UI or with \`temporal workflow show -w ${workflowId}\``}`,
      );
    }
    throw error;
  } finally {
    ended = true;
    await drawing;
  }
}

/** Stop reasons that end a loop as a failure, though its workflow completes: the command then exits 1. */
const FAILED_ENDINGS: ReadonlySet<LoopResult['stopReason']> = new Set(['failed', 'protocol_violation']);

/**
 * Exits 1 (after the caller has printed the result) when the loop ended as a failure: the circuit
 * breaker stopped it, its executor could not run, or a restore did not verify. A script that runs
 * `submit --wait`, `watch` or `demo` then sees a loop that went wrong as it sees a failed workflow.
 */
export function failIfFailedEnding(result: LoopResult): void {
  if (!FAILED_ENDINGS.has(result.stopReason)) return;
  const why = result.interventions.findLast((i) => i.via === 'engine' && i.kind === 'breaker')?.note;
  const sessions = `${result.sessions} session${result.sessions === 1 ? '' : 's'}`;
  throw new ExitError(
    ExitCode.failed,
    `loop ${result.workflowId} ended: ${result.stopReason} after ${sessions}${why ? ` (${why})` : ''}\n` +
      `  fix: ${result.finalSummary} in the loop's folder and its last session's decision.md say why; ` +
      'fix the cause, then submit again',
  );
}

export interface WatchOptions extends ConnectionFlags {
  id: string;
}

/** The line a followed loop ends with (not under --json): how it stopped and its best. */
export function logEnding(out: Output, result: LoopResult): void {
  if (out.json) return;
  const best = result.best ? `${result.best.value} (session ${result.best.session})` : 'none';
  const sessions = `${result.sessions} session${result.sessions === 1 ? '' : 's'}`;
  out.log(`ended: ${result.stopReason} after ${sessions}; best ${best}`);
}

export async function watchCommand(options: WatchOptions, out: Output): Promise<LoopResult> {
  const conn = await connect(options);
  try {
    const result = await followLoop(conn.client, loopId(options.id), out);
    logEnding(out, result);
    emit(out, result);
    failIfFailedEnding(result);
    return result;
  } finally {
    await conn.close();
  }
}
