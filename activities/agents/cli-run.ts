import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CancelledFailure, Context } from '@temporalio/activity';
import { ZERO_USAGE, type AgentRunResult, type AgentRunStatus } from '../../protocol/schemas/agent-result.js';
import { runsDir, sessionDir, sessionLabel } from '../../protocol/layout.js';
import { resolveInRoot } from '../paths.js';
import { agentEnvironment } from './environment.js';
import { followJsonl } from './jsonl-follower.js';
import { type DurableRun, findPriorRun, launch, type PriorRun, tailOf, type LaunchResult } from './launch.js';
import { isAlive, killTree } from './process-tree.js';
import { redactStrings, secretRedactor, type Redactor } from './redact.js';
import { prepareRun, type RunAgentInput, type RunFiles } from './run-agent.js';

/**
 * What the Codex and Claude adapters share: run files, the environment contract, the previous
 * attempt's heartbeat (to reap it and resume its conversation), the result file and the cancel rule.
 */

/** Heartbeat details of an agent CLI run; a retried attempt reads them back. */
export interface CliHeartbeat {
  pid: number;
  host: string;
  startedAt: string;
  elapsedMs: number;
  outputBytes: number;
  /** JSONL events seen so far and the type of the last one. */
  events: number;
  lastEvent: string | null;
  /** Codex thread id or Claude session id: what a retry resumes. */
  sessionId: string | null;
  tokensIn: number;
  tokensOut: number;
  /** The CLI's own cumulative figure for its conversation (Claude's total_cost_usd), if it said one. */
  reportedCostUsd: number | null;
}

export interface CliRunFiles extends RunFiles {
  /** Root-relative: stdout is the JSONL event stream (`log`), stderr goes here. */
  stderr: string;
  /** Root-relative prefix of the run's other files: `runs/{AGENT}-{ROLE}`. */
  base: string;
}

/** The previous attempt's heartbeat, when this activity is a retry of one that heartbeated. */
export function previousHeartbeat(): Partial<CliHeartbeat> | undefined {
  const details = Context.current().info.heartbeatDetails as unknown;
  return details !== null && typeof details === 'object' ? (details as Partial<CliHeartbeat>) : undefined;
}

/** A retried attempt first ends the process tree a crashed attempt may have left on this host. */
export async function reapPreviousAttempt(previous: Partial<CliHeartbeat> | undefined, graceMs: number): Promise<void> {
  if (previous?.host === hostname() && typeof previous.pid === 'number' && isAlive(previous.pid))
    await killTree(previous.pid, graceMs);
}

/** `runs/{AGENT}-{ROLE}`: the root-relative prefix of one role's run files in a session. */
export const runBase = (input: Pick<RunAgentInput, 'session' | 'agent' | 'role'>): string =>
  `${runsDir(input.session)}/${input.agent.token}-${input.role}`;

/** A run of this activity under `base` (absolute): later attempts of it (same workflow run, same activity id) may adopt it. */
export function durableRun(base: string): DurableRun {
  const info = Context.current().info;
  return {
    base,
    owner: `${info.workflowExecution?.workflowId ?? '-'}/${info.workflowExecution?.runId ?? '-'}/${info.activityId}`,
    attempt: info.attempt,
  };
}

/**
 * The agent run an earlier attempt of this activity left behind on this host (launch.ts DurableRun),
 * or null; with null, a process the previous attempt's heartbeat names is reaped instead.
 */
export async function priorAgentRun(
  input: RunAgentInput,
  graceMs: number,
): Promise<{ durable: DurableRun; prior: PriorRun | null }> {
  const durable = durableRun(resolveInRoot(input.root, runBase(input)));
  const prior = findPriorRun(durable);
  if (prior === null) await reapPreviousAttempt(previousHeartbeat(), graceMs);
  return { durable, prior };
}

/** Writes the prompt and empties the logs, unless the run is adopted: its log is still being written. */
export async function prepareCliRun(input: RunAgentInput, prior: PriorRun | null = null): Promise<CliRunFiles> {
  const files = await prepareRun(input);
  const base = runBase(input);
  if (prior === null) {
    await writeFile(resolveInRoot(input.root, files.log), '');
    await writeFile(resolveInRoot(input.root, `${base}.stderr.log`), '');
  }
  return { ...files, stderr: `${base}.stderr.log`, base };
}

/** The environment contract (environment.ts) for this run, with the names the loop and agent allow. */
export function cliEnvironment(input: RunAgentInput, files: CliRunFiles): Record<string, string> {
  return agentEnvironment([...input.loopEnv, ...input.agent.env], {
    role: input.role,
    agent: input.agent.token,
    session: sessionLabel(input.session),
    root: input.root,
    sessionDir: sessionDir(input.session),
    promptFile: files.prompt,
    output: input.output,
  });
}

/** The launcher's outcome as a result; adapters then refine status, reason and figures from the stream. */
export function launchedResult(launched: LaunchResult, files: CliRunFiles, root: string): AgentRunResult {
  const reasons: Record<LaunchResult['status'], string | null> = {
    exited:
      launched.exitCode === 0
        ? null
        : `exited with code ${launched.exitCode ?? 'none'}${launched.signal ? ` (${launched.signal})` : ''}`,
    timeout: 'per-run time limit reached; process tree killed',
    cancelled: 'cancelled; process tree killed',
    spawn_failed: `could not start: ${launched.spawnError ?? 'unknown error'}`,
    output_limit: 'output limit exceeded; process tree killed',
    stopped: 'stopped at a budget limit; process tree killed',
  };
  return {
    // A run stopped at a budget limit was cut short like a timed-out one; its failure says why.
    status: launched.status === 'stopped' ? 'timeout' : launched.status,
    exitCode: launched.exitCode,
    signal: launched.signal,
    durationMs: launched.durationMs,
    reason: reasons[launched.status],
    stdoutTail: tailOf(resolveInRoot(root, files.log)),
    stderrTail: tailOf(resolveInRoot(root, files.stderr)),
    logPath: files.log,
    usage: ZERO_USAGE,
    sessionId: null,
    finalMessage: null,
    resetAt: null,
    ...(launched.adopted ? { adopted: launched.adopted } : {}),
  };
}

/** A run that ended before any process started (CLI missing, no credentials). */
export function preflightResult(
  status: Extract<AgentRunStatus, 'not_installed' | 'auth_missing'>,
  reason: string,
  files: CliRunFiles,
  startedMs: number,
): AgentRunResult {
  return {
    status,
    exitCode: null,
    signal: null,
    durationMs: Date.now() - startedMs,
    reason,
    stdoutTail: '',
    stderrTail: '',
    logPath: files.log,
    usage: ZERO_USAGE,
    sessionId: null,
    finalMessage: null,
    resetAt: null,
  };
}

/** Redacts what this run was given: the values of the names its loop and agent allow (redact.ts). */
export const runRedactor = (input: Pick<RunAgentInput, 'loopEnv' | 'agent'>): Redactor =>
  secretRedactor([...input.loopEnv, ...input.agent.env]);

/**
 * Writes `runs/{AGENT}-{ROLE}.json` and returns the result, both with the run's secrets redacted
 * (the result goes into history); a cancelled run then ends as Temporal expects, by throwing.
 */
export async function finishRun(
  input: RunAgentInput,
  files: CliRunFiles,
  result: AgentRunResult,
): Promise<AgentRunResult> {
  const redacted = redactStrings(result, runRedactor(input));
  await writeFile(resolveInRoot(input.root, files.result), `${JSON.stringify(redacted, null, 2)}\n`);
  if (redacted.status === 'cancelled') throw new CancelledFailure('agent run cancelled; its process tree was killed');
  return redacted;
}

/** The prompt of a retry that continues the interrupted conversation. */
export function resumePrompt(prompt: string): string {
  return `Your previous run of this task was interrupted. Continue from where it stopped; do not redo finished steps. The task, unchanged:\n\n${prompt}`;
}

type CliProgress = Omit<CliHeartbeat, 'pid' | 'host' | 'startedAt' | 'elapsedMs' | 'outputBytes'>;

export interface CliLaunchOptions {
  input: RunAgentInput;
  files: CliRunFiles;
  binary: string;
  args: string[];
  env: Record<string, string>;
  startedMs: number;
  /** How long the CLI gets to end its tools after SIGTERM before the tree is SIGKILLed. */
  graceMs: number;
  /** Each JSONL event of stdout, in order, as it arrives. */
  onEvent: (event: Record<string, unknown>) => void;
  /** Progress for the heartbeat, read after the events of each tick. */
  progress: () => CliProgress;
  durable: DurableRun;
  /** The earlier attempt's run to adopt (its stream is read from the start of the log). */
  prior: PriorRun | null;
  /** Called every tick after the events are read (metering: run-meter.ts). */
  onTick?: () => void;
  /** Aborted to stop the run at a budget limit (run-meter.ts BudgetStop). */
  stop?: AbortSignal;
}

/**
 * Runs the CLI with the launcher (own process group, stdin closed, timeout, cancel, output cap),
 * folding its stdout events as they come and heartbeating every tick: the pid and host let a retry
 * reap this attempt, the session id lets it resume the conversation.
 */
export async function launchCli(o: CliLaunchOptions): Promise<LaunchResult> {
  const ctx = Context.current();
  const stream = followJsonl(resolveInRoot(o.input.root, o.files.log), o.onEvent);
  const startedAt = new Date(o.startedMs).toISOString();
  const redact = runRedactor(o.input);
  try {
    return await launch({
      command: o.binary,
      args: o.args,
      cwd: o.input.root,
      env: o.env,
      stdoutFile: resolveInRoot(o.input.root, o.files.log),
      stderrFile: resolveInRoot(o.input.root, o.files.stderr),
      timeoutMs: o.input.timeoutMs,
      cancelSignal: ctx.cancellationSignal,
      graceMs: o.graceMs,
      durable: o.durable,
      adopt: o.prior,
      ...(o.stop ? { stopSignal: o.stop } : {}),
      onTick: (tick) => {
        stream.poll();
        o.onTick?.();
        // Heartbeat details are kept in history when the activity fails or times out.
        ctx.heartbeat(
          redactStrings(
            {
              pid: tick.pid,
              host: hostname(),
              startedAt,
              elapsedMs: tick.elapsedMs,
              outputBytes: tick.stdoutBytes,
              ...o.progress(),
            } satisfies CliHeartbeat,
            redact,
          ),
        );
      },
    });
  } finally {
    stream.close();
  }
}
