import { parseDuration } from '../../protocol/duration.js';
import { TemporalBinarySchema } from '../../protocol/schemas/cli-output.js';
import type { ConnectionFlags } from '../../server/connection-options.js';
import { ensureTemporalBinary, type TemporalBinary } from '../../server/temporal-binary.js';
import { connect } from '../connect.js';
import { ExitCode, ExitError, TemporalUnreachableError, UsageError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';
import { checkReadiness, type Readiness } from '../readiness.js';

/** `loop-station server ensure`: prints the path of a usable temporal binary, getting one if needed. */
export async function serverEnsureCommand(out: Output): Promise<TemporalBinary> {
  const binary = await ensureTemporalBinary({ log: (line) => out.log(line) });
  if (!out.json) out.log(`temporal ${binary.version} (${binary.source})`);
  return emit(out, TemporalBinarySchema.parse(binary), binary.path);
}

export interface ServerStatusOptions extends ConnectionFlags {
  taskQueue: string;
  /** Keep checking this long (`60s`, `2m`) until ready. */
  wait?: string | undefined;
}

/**
 * `loop-station server status`: can loops run on this server now (search attributes registered, a
 * worker polling the task queue)? Exit 0 ready, 1 not ready, 3 unreachable; `--wait` polls until
 * ready, for scripts that start `loop-station dev` in the background.
 */
export async function serverStatusCommand(options: ServerStatusOptions, out: Output): Promise<Readiness> {
  const waitMs = options.wait === undefined ? 0 : parseDuration(options.wait);
  if (waitMs === undefined) {
    throw new UsageError(`--wait ${options.wait}: not a duration\n  fix: give a duration such as 30s, 2m or 1m30s`);
  }
  const deadline = Date.now() + waitMs;
  let last: Readiness | TemporalUnreachableError;
  for (;;) {
    last = await readinessOnce(options).catch((error: unknown) => {
      if (error instanceof TemporalUnreachableError) return error;
      throw error;
    });
    if ((!(last instanceof TemporalUnreachableError) && last.ready) || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (last instanceof TemporalUnreachableError) throw last;
  emit(out, last, (r) =>
    r.ready ? `ready: ${r.address} namespace ${r.namespace} task queue ${r.taskQueue}` : undefined,
  );
  if (!last.ready) {
    const waited = waitMs > 0 ? ` after waiting ${options.wait}` : '';
    const fix = last.missingSearchAttributes.length
      ? '`loop-station dev` registers them on its own server; on a cluster, register them once ' +
        '(README, "Using an existing cluster")'
      : `start a worker: \`loop-station worker --task-queue ${last.taskQueue}\` (or \`loop-station dev\`)`;
    throw new ExitError(ExitCode.failed, `not ready${waited}: ${last.problems.join('; ')}\n  fix: ${fix}`);
  }
  return last;
}

async function readinessOnce(options: ServerStatusOptions): Promise<Readiness> {
  const conn = await connect(options);
  try {
    return await checkReadiness(conn.connection, {
      address: conn.address,
      namespace: conn.namespace,
      taskQueue: options.taskQueue,
    });
  } finally {
    await conn.close();
  }
}
