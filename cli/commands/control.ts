import { sdk } from '../temporal-sdk.js';
import {
  type Ack,
  ApproveInputSchema,
  DenyInputSchema,
  ExtendBudgetInputSchema,
  type LoopStatus,
  PauseInputSchema,
  RedirectInputSchema,
  StopInputSchema,
} from '../../protocol/schemas/messages.js';
import {
  approveUpdate,
  denyUpdate,
  extendBudgetUpdate,
  pauseUpdate,
  redirectUpdate,
  resumeUpdate,
  statusQuery,
  stopUpdate,
} from '../../workflows/messages.js';
import type { ConnectionFlags } from '../../server/connection-options.js';
import { agentRun, type Connected, connect, loopId } from '../connect.js';
import { priorRun } from '../prior-run.js';
import { ExitCode, ExitError, UsageError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';
import { renderStatusText } from './status.js';
import { latestRunLogins, renderRunLogins, type RunLogin } from '../run-logins.js';
import { type z } from 'zod';
import { secretsInSpec } from '../../protocol/secret-shapes.js';
import { terminalSafe } from '../../protocol/terminal-text.js';

const UPDATE_DEADLINE_MS = 15_000;

const firstLine = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0] : String(error));

async function withLoop<T>(
  flags: ConnectionFlags,
  id: string,
  fn: (conn: Connected, workflowId: string) => Promise<T>,
): Promise<T> {
  const conn = await connect(flags);
  const workflowId = loopId(id);
  try {
    return await fn(conn, workflowId);
  } catch (error) {
    if (!(error instanceof sdk().WorkflowNotFoundError)) throw error;
    // The server answers an update to a closed run with NOT_FOUND too: tell "ended" from "never was".
    const ended = await endedAs(conn, workflowId);
    if (ended) {
      throw new ExitError(
        ExitCode.failed,
        `loop ${workflowId} has already ended (${ended}): it takes no more messages\n` +
          `  fix: \`${conn.cli(`status ${workflowId}`)}\` shows how it ended; ` +
          `\`${conn.cli(`fork ${workflowId} --from-session N`)}\` continues from one of its sessions`,
      );
    }
    throw new ExitError(
      ExitCode.failed,
      `no loop ${workflowId} in namespace ${conn.namespace}\n  fix: list loops with \`${conn.cli('list')}\``,
    );
  } finally {
    await conn.close();
  }
}

/** How a closed run ended (its status, and a completed loop's stop reason); undefined when there is none or it runs. */
async function endedAs(conn: Connected, workflowId: string): Promise<string | undefined> {
  const run = await priorRun(conn, workflowId);
  return run && !run.running ? run.ended : undefined;
}

/** Parses a payload at the edge, turning zod issues into a usage error that names the field. */
function payload<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  // A note is kept in the loop's history, ledger and summaries, as a spec is: no credential goes in.
  const secrets = secretsInSpec(value);
  if (secrets.length)
    throw new UsageError(
      secrets.map((f) => `the ${f.path} holds what looks like ${f.what} (${f.masked})\n`).join('') +
        '  fix: leave the secret out of the message (the history, the ledger and the summaries keep it); ' +
        'nothing was sent',
    );
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('\n'));
  return parsed.data;
}

/** Sends an update and waits for the workflow's answer; a rejection exits 1 with the workflow's reason. */
async function sendUpdate(
  flags: ConnectionFlags,
  id: string,
  name: string,
  fn: (conn: Connected, workflowId: string) => Promise<Ack>,
  out: Output,
): Promise<Ack> {
  return withLoop(flags, id, async (conn, workflowId) => {
    try {
      const ack = await conn.client.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () => fn(conn, workflowId));
      if (!out.json) out.log(`${workflowId}: ${ack.message}`);
      return emit(out, ack);
    } catch (error) {
      if (error instanceof sdk().WorkflowUpdateFailedError) {
        throw new ExitError(
          ExitCode.failed,
          `${workflowId} rejected ${name}: ${error.cause?.message ?? error.message}`,
        );
      }
      if (sdk().isGrpcDeadlineError(error)) {
        throw new ExitError(
          ExitCode.failed,
          `${workflowId} did not answer ${name} within ${UPDATE_DEADLINE_MS / 1000}s: no worker seems to run it\n` +
            '  fix: start one with `loop-station worker` (or `loop-station dev`), then retry',
        );
      }
      throw error;
    }
  });
}

type Flags = ConnectionFlags & { id: string };

/**
 * Approve, deny, resume and extend answer for the person who runs the loop: refused inside an agent's
 * run, where an executor could otherwise approve its own question or grow its own budget. A guard
 * against an agent's mistake, not a boundary: agents run as the worker's user.
 */
function personOnly(command: string): void {
  const run = agentRun();
  if (run)
    throw new UsageError(
      `${command}: refused inside an agent's run (${run}): it answers for the person who runs the loop\n` +
        '  fix: say what you need in your report or proposal; the supervisor and the person read them. ' +
        'Nothing was sent',
    );
}

export const stopCommand = (o: Flags & { now?: boolean; reason?: string }, out: Output) => {
  const input = payload(StopInputSchema, { mode: o.now ? 'now' : 'after-session', reason: o.reason ?? '' });
  return sendUpdate(
    o,
    o.id,
    'stop',
    (c, id) => c.client.workflow.getHandle(id).executeUpdate(stopUpdate, { args: [input] }),
    out,
  );
};
export const redirectCommand = (o: Flags & { note: string }, out: Output) => {
  const input = payload(RedirectInputSchema, { note: o.note });
  return sendUpdate(
    o,
    o.id,
    'redirect',
    (c, id) => c.client.workflow.getHandle(id).executeUpdate(redirectUpdate, { args: [input] }),
    out,
  );
};
export const pauseCommand = (o: Flags & { note?: string }, out: Output) => {
  const input = payload(PauseInputSchema, { note: o.note ?? '' });
  return sendUpdate(
    o,
    o.id,
    'pause',
    (c, id) => c.client.workflow.getHandle(id).executeUpdate(pauseUpdate, { args: [input] }),
    out,
  );
};
export const resumeCommand = (o: Flags & { note?: string }, out: Output) => {
  personOnly('resume');
  const input = payload(PauseInputSchema, { note: o.note ?? '' });
  return sendUpdate(
    o,
    o.id,
    'resume',
    (c, id) => c.client.workflow.getHandle(id).executeUpdate(resumeUpdate, { args: [input] }),
    out,
  );
};
export const approveCommand = (o: Flags & { session: number; decision?: string; note?: string }, out: Output) => {
  personOnly('approve');
  const input = payload(ApproveInputSchema, {
    session: o.session,
    ...(o.decision ? { decision: o.decision } : {}),
    note: o.note ?? '',
  });
  return sendUpdate(
    o,
    o.id,
    'approve',
    (c, id) => c.client.workflow.getHandle(id).executeUpdate(approveUpdate, { args: [input] }),
    out,
  );
};
export const denyCommand = (o: Flags & { session: number; note?: string }, out: Output) => {
  personOnly('deny');
  const input = payload(DenyInputSchema, { session: o.session, note: o.note ?? '' });
  return sendUpdate(
    o,
    o.id,
    'deny',
    (c, id) => c.client.workflow.getHandle(id).executeUpdate(denyUpdate, { args: [input] }),
    out,
  );
};
export const extendCommand = (
  o: Flags & { sessions?: number; wallClock?: string; tokens?: number; costUsd?: number; note?: string },
  out: Output,
) => {
  personOnly('extend');
  if ([o.sessions, o.wallClock, o.tokens, o.costUsd].every((v) => v === undefined))
    throw new UsageError(
      'extend: no limit given\n  fix: give at least one of --sessions, --wall-clock, --tokens, --cost-usd ' +
        '(each sets that limit higher); nothing was sent',
    );
  const input = payload(ExtendBudgetInputSchema, {
    ...(o.sessions !== undefined ? { sessions: o.sessions } : {}),
    ...(o.wallClock !== undefined ? { wallClock: o.wallClock } : {}),
    ...(o.tokens !== undefined ? { tokens: o.tokens } : {}),
    ...(o.costUsd !== undefined ? { costUsd: o.costUsd } : {}),
    note: o.note ?? '',
  });
  return sendUpdate(
    o,
    o.id,
    'extend',
    (c, id) => c.client.workflow.getHandle(id).executeUpdate(extendBudgetUpdate, { args: [input] }),
    out,
  );
};

/**
 * A loop whose workflow failed, was terminated or cancelled or timed out answers its status query
 * with the state of its last task (`framing`, no stop reason): its first warning says how it ended.
 */
async function withEnding(conn: Connected, workflowId: string, status: LoopStatus): Promise<LoopStatus> {
  const handle = conn.client.workflow.getHandle(workflowId);
  const name = (await handle.describe()).status.name;
  if (!['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT'].includes(name)) return status;
  const error = await handle.result().then(
    () => null,
    (e: unknown) => e,
  );
  const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : '';
  const how = name.toLowerCase().replace('_', ' ');
  return {
    ...status,
    warnings: [
      `the loop's workflow ${how}${cause ? `: ${firstLine(cause)}` : ''}; ` +
        'it ended without a stop reason or FINAL_SUMMARY.md',
      ...status.warnings,
    ],
  };
}

export async function statusCommand(o: Flags, out: Output): Promise<LoopStatus> {
  return withLoop(o, o.id, async (conn, workflowId) => {
    let status: LoopStatus;
    const ask = (ms: number) =>
      conn.client.withDeadline(Date.now() + ms, () => conn.client.workflow.getHandle(workflowId).query(statusQuery));
    try {
      status = await ask(10_000);
    } catch (error) {
      if (error instanceof sdk().WorkflowNotFoundError) throw error;
      const description = await conn.client.workflow.getHandle(workflowId).describe();
      // A loop that has just ended: sdk-core drops a query that meets the eviction of the finished
      // run, and asked again the worker replays it and answers.
      const ended = description.status.name !== 'RUNNING';
      const again = ended ? await ask(10_000).catch(() => null) : null;
      if (again) status = again;
      else
        throw new ExitError(
          ExitCode.failed,
          `${workflowId} is ${description.status.name}, but its status query got no answer (${firstLine(error)})\n` +
            '  fix: start a worker (`loop-station worker`); a finished loop answers from its last worker too',
        );
    }
    status = await withEnding(conn, workflowId, status);
    // Which login, CLI and model the latest agent runs used, when their files are on this machine.
    const runs = await latestRunLogins(status.root, Math.max(1, status.session));
    const shown: LoopStatus & { runs?: RunLogin[] } = runs.length > 0 ? { ...status, runs } : status;
    emit(out, shown, (s) => {
      const line = renderRunLogins(runs);
      // Messages, notes, failures and the runs' models quote agents and senders: none reaches the terminal raw.
      return terminalSafe(`${renderStatusText(s, Date.now(), conn.cli)}${line ? `${line}\n` : ''}`);
    });
    return shown;
  });
}
