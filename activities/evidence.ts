import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CancelledFailure, Context } from '@temporalio/activity';
import { toEvidenceResult } from '../protocol/evidence-output.js';
import { codeVariantDir, evidenceDir as evidenceDirOf, runsDir, sessionDir, sessionLabel } from '../protocol/layout.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { EvidenceResult } from '../protocol/schemas/state.js';
import { agentEnvironment } from './agents/environment.js';
import { redactStrings, secretRedactor } from './agents/redact.js';
import { redactLogs } from './agents/redact-logs.js';
import { durableRun } from './agents/cli-run.js';
import { heartbeats } from './agents/heartbeat.js';
import { findPriorRun, launch, tailOf } from './agents/launch.js';
import { keepEvidenceArtifacts } from './evidence-artifacts.js';
import { writeFileAtomic } from './flags.js';
import { resolveInRoot } from './paths.js';

export interface RunEvidenceInput {
  root: string;
  session: number;
  evidence: LoopConfig['evidence'];
  env: readonly string[];
  /**
   * Another folder to run in (root-relative; a code variant's evaluation copy), and the name of its
   * logs and metrics file (`<name>.stdout.log`, `<name>_metrics.json`). Default: the root, `evidence`.
   */
  within?: { dir: string; name: string };
}

/**
 * Runs the evidence command from the loop root (docs/protocol.md#canonical-order, step 3) and writes metrics.json.
 * Session 0 is the frame-lock baseline; its metrics go beside the baseline variant.
 */
export async function runEvidence(input: RunEvidenceInput): Promise<EvidenceResult> {
  const ctx = Context.current();
  const runs = input.session === 0 ? codeVariantDir(0, 'baseline') : runsDir(input.session);
  // Synchronous on purpose, as in prepareRun (agents/run-agent.ts).
  mkdirSync(resolveInRoot(input.root, runs), { recursive: true });
  // A variant's evaluation keeps what its command writes beside its copy, apart from the candidate's.
  const evidenceDir = input.within ? `${input.within.dir}/evidence` : evidenceDirOf(input.session);
  mkdirSync(resolveInRoot(input.root, evidenceDir), { recursive: true });
  const name = input.within?.name ?? 'evidence';
  const cwd = input.within ? resolveInRoot(input.root, input.within.dir) : input.root;
  const stdoutFile = `${runs}/${name}.stdout.log`;
  const stderrFile = `${runs}/${name}.stderr.log`;
  const startedAt = new Date().toISOString();
  // A retry after a worker death adopts the evidence run already going (or done) instead of running
  // it a second time beside it; a fresh run starts with empty logs, so stdout is this run's alone.
  const durable = durableRun(resolveInRoot(input.root, `${runs}/${name}`));
  const prior = findPriorRun(durable);
  if (prior === null) for (const file of [stdoutFile, stderrFile]) writeFileSync(resolveInRoot(input.root, file), '');
  const beat = heartbeats(ctx);
  const launched = await launch({
    durable,
    adopt: prior,
    command: input.evidence.command,
    cwd,
    env: agentEnvironment(input.env, {
      role: 'SUPERVISOR',
      agent: 'LOOP_STATION',
      session: sessionLabel(input.session),
      root: cwd,
      sessionDir: input.session === 0 ? runs : sessionDir(input.session),
      promptFile: '',
      output: `${input.session === 0 ? runs : sessionDir(input.session)}/metrics.json`,
      // Run elsewhere (a variant's copy), the folder is named absolutely: relative paths would land in the copy.
      evidenceDir: input.within ? resolveInRoot(input.root, evidenceDir) : evidenceDir,
    }),
    stdoutFile: resolveInRoot(input.root, stdoutFile),
    stderrFile: resolveInRoot(input.root, stderrFile),
    timeoutMs: input.evidence.timeoutMs,
    cancelSignal: ctx.cancellationSignal,
    maxOutputBytes: 16 * 1024 * 1024,
    onTick: ({ pid, elapsedMs }) => beat.send({ pid, host: hostname(), startedAt, elapsedMs }),
    onBeat: beat.again,
    preemptKey: ctx.info.workflowExecution?.workflowId,
  });
  // The command sees the spec's env: values; they are redacted from its logs, which the evidence pack
  // points the supervisor and the reviewers at, and from what it printed, which goes into history.
  const redact = secretRedactor(input.env);
  await redactLogs(input.root, [stdoutFile, stderrFile], redact);
  if (launched.status === 'cancelled')
    throw new CancelledFailure('evidence run cancelled; its process group was killed');
  const failures: Record<string, string | null> = {
    exited: null,
    timeout: `evidence command timed out after ${input.evidence.timeoutMs} ms`,
    spawn_failed: `evidence command could not start: ${launched.spawnError ?? ''}`,
    output_limit: 'evidence command printed more than 16 MiB',
  };
  const result = redactStrings(
    toEvidenceResult({
      command: input.evidence.command,
      metric: input.evidence.metric,
      protect: input.evidence.protect,
      exitCode: launched.exitCode,
      stdout: tailOf(resolveInRoot(input.root, stdoutFile), 256 * 1024),
      failure: failures[launched.status] ?? null,
    }),
    redact,
  );
  const metricsPath = `${input.session === 0 ? runs : sessionDir(input.session)}/${input.within ? `${name}_metrics` : 'metrics'}.json`;
  await writeFileAtomic(input.root, metricsPath, `${JSON.stringify(result, null, 2)}\n`);
  if (launched.status === 'exited')
    await keepEvidenceArtifacts(input.root, input.evidence.artifacts ?? [], input.session);
  return result;
}
