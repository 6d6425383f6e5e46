import type { Context } from '@temporalio/activity';

/**
 * An activity's heartbeat for a running process: `send` with fresh details each tick (launch's
 * onTick), `again` in between (launch's onBeat) with the same details, so the worker has a heartbeat
 * to flush every BEAT_MS and the response carrying a cancel comes back within that (details are
 * kept: a retry reads the pid from them).
 */
export function heartbeats(ctx: Context): { send: (details: unknown) => void; again: () => void } {
  let last: { details: unknown } | null = null;
  return {
    send: (details) => {
      last = { details };
      ctx.heartbeat(details);
    },
    again: () => {
      if (last) ctx.heartbeat(last.details);
    },
  };
}
