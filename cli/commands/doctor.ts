import { DoctorReportSchema, type DoctorReport, type SetupCheck } from '../../protocol/schemas/doctor.js';
import { type LoopConfig, toLoopConfig } from '../../protocol/schemas/loop-config.js';
import { LoopSpecSchema } from '../../protocol/schemas/loop-spec.js';
import { sandboxCheck } from '../../protocol/setup-checks.js';
import { type ConnectionFlags, resolveConnection } from '../../server/connection-options.js';
import { type Connected, connect } from '../connect.js';
import { ExitCode, ExitError, REGISTER_ATTRIBUTES_FIX, TemporalUnreachableError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';
import { checkReadiness } from '../readiness.js';
import { agentSetupChecks, renderChecks } from '../setup-checks.js';
import { loadLoopSpec } from '../spec-file.js';

export interface DoctorOptions extends ConnectionFlags {
  spec?: string | undefined;
  root?: string | undefined;
  taskQueue: string;
}

/** Without a spec: the two agent CLIs a spec most often names, checked as they would run. */
function defaultAgents(taskQueue: string): LoopConfig {
  const spec = LoopSpecSchema.parse({
    name: 'doctor',
    root: '.',
    goal: 'check the setup',
    budget: { sessions: 1 },
    evidence: { command: 'true', metric: 'none' },
    executor: { name: 'codex', agent: 'codex' },
    reviewers: [{ name: 'claude', agent: 'claude' }],
    taskQueue,
  });
  return toLoopConfig(spec, process.cwd());
}

/** Temporal reachable, the loop search attributes registered, a worker polling the task queue. */
async function serverChecks(
  options: DoctorOptions,
  taskQueue: string,
): Promise<{ conn: Connected | null; checks: SetupCheck[]; polls: boolean; unreachable: boolean }> {
  let conn: Connected;
  try {
    conn = await connect(options);
  } catch (error) {
    if (!(error instanceof TemporalUnreachableError)) throw error;
    const [what, ...fix] = error.message.split('\n');
    const check: SetupCheck = {
      id: 'temporal',
      status: 'fail',
      message: what!,
      fix: fix.map((l) => l.replace(/^\s*(fix:)?\s*/, '')).join(' '),
    };
    return { conn: null, checks: [check], polls: false, unreachable: true };
  }
  const ready = await checkReadiness(conn.connection, { address: conn.address, namespace: conn.namespace, taskQueue });
  const checks: SetupCheck[] = [
    ready.missingSearchAttributes.length === 0
      ? { id: 'temporal', status: 'ok', message: `${conn.address} namespace ${conn.namespace}`, fix: null }
      : {
          id: 'temporal',
          status: 'fail',
          message:
            `${conn.address} namespace ${conn.namespace} lacks the search attributes ` +
            ready.missingSearchAttributes.join(', '),
          fix: REGISTER_ATTRIBUTES_FIX.replace(/^\s*fix:\s*/, '').replace(/\s+/g, ' '),
        },
    (ready.workflowPollers ?? 0) > 0
      ? { id: 'worker', status: 'ok', message: `a worker polls task queue ${taskQueue}`, fix: null }
      : {
          id: 'worker',
          status: 'fail',
          message: `no worker polls task queue ${taskQueue}: no loop there would move`,
          fix:
            `start one: \`loop-station worker --task-queue ${taskQueue} --allow-root <folder of the loop root>\`` +
            ' (or `loop-station dev`)',
        },
  ];
  return { conn, checks, polls: (ready.workflowPollers ?? 0) > 0, unreachable: false };
}

/**
 * `loop-station doctor`: can a loop run here, and can this spec's agents do their work? Each check
 * has a one-line fix. The agent checks run where the agents will (a worker of the task queue), or
 * on this machine when no worker polls it. Exit 0 when nothing failed (warnings allowed), 1 when a
 * check failed, 3 when no Temporal server answers.
 */
export async function doctorCommand(options: DoctorOptions, out: Output): Promise<DoctorReport> {
  const loaded = options.spec ? await loadLoopSpec(options.spec, options.root ? { root: options.root } : {}) : null;
  const config = loaded?.config ?? defaultAgents(options.taskQueue);
  const taskQueue = loaded ? config.taskQueue : options.taskQueue;
  const server = await serverChecks(options, taskQueue);
  const checks = [...server.checks];
  for (const w of loaded?.warnings ?? []) checks.push({ id: 'spec', status: 'warn', message: w.message, fix: w.fix });
  const sandbox = loaded ? sandboxCheck(config) : null;
  if (sandbox) checks.push(sandbox);
  try {
    if (!server.unreachable || loaded) {
      const agents = await agentSetupChecks(server.conn, config, {
        evidence: loaded !== null,
        workerPolls: server.polls,
      });
      // Without a spec neither CLI is required: what is missing is said, not failed.
      const found = loaded
        ? agents.checks
        : agents.checks
            .filter((c) => c.id !== 'root')
            .map((c) => (c.status === 'fail' ? { ...c, status: 'warn' as const } : c));
      checks.push(...found);
      return finish(out, options, server.unreachable, {
        taskQueue,
        spec: loaded?.file ?? null,
        checkedOn: agents.checkedOn,
        host: agents.host,
        checks,
        models: loaded ? agents.models : [],
      });
    }
    return finish(out, options, server.unreachable, {
      taskQueue,
      spec: null,
      checkedOn: null,
      host: null,
      checks,
      models: [],
    });
  } finally {
    await server.conn?.close();
  }
}

function finish(
  out: Output,
  options: DoctorOptions,
  unreachable: boolean,
  found: Omit<DoctorReport, 'ok' | 'address' | 'namespace'>,
): DoctorReport {
  const settings = resolveConnection(options);
  const report = DoctorReportSchema.parse({
    ok: !found.checks.some((c) => c.status === 'fail'),
    address: settings.address,
    namespace: settings.namespace,
    ...found,
  });
  emit(out, report, (r) => {
    const where =
      r.checkedOn === 'worker'
        ? `agent checks ran on a worker of task queue ${r.taskQueue} (host ${r.host})`
        : r.checkedOn === 'here'
          ? `agent checks ran on this machine (${r.host}): no worker of task queue ${r.taskQueue} answered`
          : null;
    const models = r.models.length ? `models: ${r.models.map((m) => `${m.agent} ${m.model ?? '-'}`).join(', ')}` : null;
    return [where, renderChecks(r.checks), models].filter((l) => l !== null).join('\n');
  });
  const failed = report.checks.filter((c) => c.status === 'fail');
  if (unreachable) throw new ExitError(ExitCode.unreachable, `${failed[0]!.message}\n  fix: ${failed[0]!.fix}`);
  if (failed.length > 0)
    throw new ExitError(
      ExitCode.failed,
      `${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.id).join(', ')}\n` +
        '  fix: the fix of each failed check is printed with it (with --json: its `fix` field)',
    );
  return report;
}
