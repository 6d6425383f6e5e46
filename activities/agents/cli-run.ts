import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CancelledFailure, Context } from '@temporalio/activity';
import {
  ZERO_USAGE,
  type AgentFailure,
  type AgentRunResult,
  type AgentRunStatus,
} from '../../protocol/schemas/agent-result.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../protocol/schemas/agents/run-fields.js';
import { formatElapsed } from '../../protocol/duration.js';
import { runsDir, sessionDir, sessionLabel } from '../../protocol/layout.js';
import { resolveInRoot } from '../paths.js';
import { agentEnvironment } from './environment.js';
import { failure, launcherFailure } from './failures.js';
import { followJsonl } from './jsonl-follower.js';
import { heartbeats } from './heartbeat.js';
import { type DurableRun, findPriorRun, launch, type PriorRun, tailOf, type LaunchResult } from './launch.js';
import { isAlive, killTree } from './process-tree.js';
import { redactStrings, secretRedactor, type Redactor } from './redact.js';
import { redactLogs } from './redact-logs.js';
import { prepareRun, type RunAgentInput, type RunFiles } from './run-agent.js';
import { nudgePrompt } from './unattended-note.js';

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

/** The first words of the separator line written into a log before each further run of the same role. */
export const LOG_SEPARATOR = '--- loop-station:';

/**
 * Writes the prompt (`prompt`: the text the agent is given, default the input's) and makes sure the
 * logs exist. Logs are appended to, never emptied: a retried, resumed or nudged run of the same role
 * in the same session adds to what the earlier one wrote, below a separator line (launchCli).
 */
export async function prepareCliRun(
  input: RunAgentInput,
  _prior: PriorRun | null = null,
  prompt?: string,
): Promise<CliRunFiles> {
  const files = await prepareRun(prompt === undefined ? input : { ...input, prompt });
  const base = runBase(input);
  // Created if missing, synchronously (see prepareRun).
  appendFileSync(resolveInRoot(input.root, files.log), '');
  appendFileSync(resolveInRoot(input.root, `${base}.stderr.log`), '');
  return { ...files, stderr: `${base}.stderr.log`, base };
}

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** Appends `--- loop-station: <time> <what> ---` to the run's logs that already hold something. */
export function separateLogs(root: string, files: CliRunFiles, what: string): void {
  const line = `${LOG_SEPARATOR} ${new Date().toISOString()} ${what} ---\n`;
  for (const log of [files.log, files.stderr]) {
    const path = resolveInRoot(root, log);
    if (sizeOf(path) > 0) appendFileSync(path, line);
  }
}

/** The byte offset in the log where the run that is being adopted began: after the last separator line. */
export function adoptedStreamStart(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return 0;
  }
  const at = text.lastIndexOf(`\n${LOG_SEPARATOR} `);
  const start = at >= 0 ? at + 1 : text.startsWith(`${LOG_SEPARATOR} `) ? 0 : -1;
  if (start < 0) return 0;
  const end = text.indexOf('\n', start);
  return end < 0 ? text.length : end + 1;
}

/**
 * The thread a run continues: the one its own previous attempt was in (a retry, from the heartbeat),
 * else the one the workflow asks for (`resumeThreadId`); none when adopting a run still going.
 */
export function threadToResume(
  input: RunAgentInput,
  previous: Partial<CliHeartbeat> | undefined,
  prior: PriorRun | null,
): { id: string; retry: boolean } | null {
  if (prior !== null) return null;
  if (typeof previous?.sessionId === 'string' && previous.sessionId !== '')
    return { id: previous.sessionId, retry: true };
  return input.resumeThreadId ? { id: input.resumeThreadId, retry: false } : null;
}

/** The files this run must leave: `mustWrite`, default the output. */
export const mustWrite = (input: Pick<RunAgentInput, 'mustWrite' | 'output'>): readonly string[] =>
  input.mustWrite && input.mustWrite.length > 0 ? input.mustWrite : [input.output];

/** The required files the run has not written (missing or empty). */
export function missingFiles(input: Pick<RunAgentInput, 'root' | 'mustWrite' | 'output'>): string[] {
  return mustWrite(input).filter((file) => {
    try {
      const stat = statSync(resolveInRoot(input.root, file));
      return !stat.isFile() || stat.size === 0;
    } catch {
      return true;
    }
  });
}

/** The idle timeout of this run: the input's, else the agent's, else its kind's default (null: off). */
export function idleTimeoutOf(input: Pick<RunAgentInput, 'idleTimeoutMs' | 'agent'>): number | null {
  if (input.idleTimeoutMs !== undefined) return input.idleTimeoutMs;
  if (input.agent.idleTimeoutMs !== undefined) return input.agent.idleTimeoutMs;
  const kind = input.agent.kind;
  return kind === 'external' ? null : DEFAULT_IDLE_TIMEOUT_MS[kind];
}

/** The variable every process of a run inherits, so what it leaves behind is found (launch.ts LeftoverPolicy). */
export const RUN_MARKER = 'LOOP_STATION_RUN';

/** The launcher's stall and leftover options for this run, and the marker to put into its environment. */
export function runWatch(
  input: RunAgentInput,
  stateDirs: readonly string[] = [],
): {
  env: Record<string, string>;
  idle: { timeoutMs: number; dirs: string[] } | null;
  leftovers: { marker: { name: string; value: string }; wait: boolean };
} {
  const marker = randomUUID();
  const idle = idleTimeoutOf(input);
  return {
    env: { [RUN_MARKER]: marker },
    idle: idle === null ? null : { timeoutMs: idle, dirs: [input.root, ...stateDirs] },
    leftovers: {
      marker: { name: RUN_MARKER, value: marker },
      wait: input.waitForChildren ?? input.agent.waitForChildren ?? false,
    },
  };
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
  const idle = `no output and no file change for ${formatElapsed(launched.idleMs ?? 0)}; process tree killed`;
  const reasons: Record<LaunchResult['status'], string | null> = {
    exited:
      launched.exitCode === 0
        ? null
        : `exited with code ${launched.exitCode ?? 'none'}${launched.signal ? ` (${launched.signal})` : ''}`,
    timeout: 'per-run time limit reached; process tree killed',
    cancelled: 'cancelled; process tree killed',
    spawn_failed: `could not start: ${launched.spawnError ?? 'unknown error'}`,
    output_limit: 'output limit exceeded; process tree killed',
    // The stall is a timeout to the workflows that predate `failure`; the failure says which kind.
    stalled: `stalled: ${idle}`,
    stopped: 'stopped by the adapter; process tree killed',
    budget: 'stopped at a budget limit; process tree killed',
  };
  // A stall or a budget stop cut the run short like a timeout to the workflows that predate `failure`;
  // the failure says which kind.
  const status: AgentRunStatus =
    launched.status === 'stalled' || launched.status === 'budget'
      ? 'timeout'
      : launched.status === 'stopped'
        ? 'exited'
        : launched.status;
  const result: AgentRunResult = {
    status,
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
    ...(launched.leftovers && launched.leftovers.length > 0 ? { leftovers: launched.leftovers } : {}),
  };
  const classified = launched.status === 'stalled' ? failure('stall', 'idle', idle) : launcherFailure(result);
  return classified === null ? result : { ...result, failure: classified };
}

/** A run that ended before any process started (CLI missing, no credentials): a person must act. */
export function preflightResult(
  status: Extract<AgentRunStatus, 'not_installed' | 'auth_missing'>,
  reason: string,
  files: CliRunFiles,
  startedMs: number,
  fix: string,
): AgentRunResult {
  return {
    failure: failure('needs_human', status === 'not_installed' ? 'not_installed' : 'not_logged_in', reason, fix),
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
 * (the result goes into history), after redacting them from the run's logs (redact-logs.ts: the next
 * agents are pointed at those); a cancelled run then ends as Temporal expects, by throwing.
 */
export async function finishRun(
  input: RunAgentInput,
  files: CliRunFiles,
  result: AgentRunResult,
): Promise<AgentRunResult> {
  const redact = runRedactor(input);
  // Codex's final message too (codex.ts): the same agent text, kept beside the logs.
  await redactLogs(input.root, [files.log, files.stderr, `${files.base}.last-message.txt`], redact);
  const redacted = redactStrings(result, redact);
  writeFileSync(resolveInRoot(input.root, files.result), `${JSON.stringify(redacted, null, 2)}\n`);
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
  /** Folders besides the root whose changes count as activity (the CLI's state folder). */
  stateDirs?: string[];
  /** Polled each tick: true stops the run (status `stopped`). */
  stopWhen?: () => boolean;
  /** Why this launch, for the separator line above its output in the logs; default `run`. */
  what?: string;
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
  const log = resolveInRoot(o.input.root, o.files.log);
  if (o.prior === null) separateLogs(o.input.root, o.files, o.what ?? 'run');
  // A run adopted from an earlier attempt is read from its own start; a new one from the end of the log.
  const stream = followJsonl(log, o.onEvent, o.prior === null ? sizeOf(log) : adoptedStreamStart(log));
  const startedAt = new Date(o.startedMs).toISOString();
  const redact = runRedactor(o.input);
  const watch = runWatch(o.input, o.stateDirs ?? []);
  const beat = heartbeats(ctx);
  try {
    return await launch({
      command: o.binary,
      args: o.args,
      cwd: o.input.root,
      env: { ...o.env, ...watch.env },
      idle: watch.idle,
      leftovers: watch.leftovers,
      stopWhen: o.stopWhen,
      stdoutFile: resolveInRoot(o.input.root, o.files.log),
      stderrFile: resolveInRoot(o.input.root, o.files.stderr),
      timeoutMs: o.input.timeoutMs,
      cancelSignal: ctx.cancellationSignal,
      graceMs: o.graceMs,
      durable: o.durable,
      adopt: o.prior,
      ...(o.stop ? { stopSignal: o.stop } : {}),
      onBeat: beat.again,
      preemptKey: ctx.info.workflowExecution?.workflowId,
      onTick: (tick) => {
        stream.poll();
        o.onTick?.();
        // Heartbeat details are kept in history when the activity fails or times out.
        beat.send(
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

/** One launch of a CLI: what to send, which thread to continue, which images to attach. */
export interface LaunchPlan {
  prompt: string;
  resumeId: string | null;
  /** Why this launch, for the log's separator line. */
  what: string;
  /** The follow-up turn of launchWithNudge (no images again, no resume preamble). */
  nudge?: boolean;
}

/** Sums two launches of one run: the second's outcome, both launches' figures. */
export function combineLaunches(first: AgentRunResult, second: AgentRunResult): AgentRunResult {
  return {
    ...second,
    durationMs: first.durationMs + second.durationMs,
    usage: {
      tokensIn: first.usage.tokensIn + second.usage.tokensIn,
      tokensCached: first.usage.tokensCached + second.usage.tokensCached,
      tokensOut: first.usage.tokensOut + second.usage.tokensOut,
      costUsd: first.usage.costUsd + second.usage.costUsd,
      turns: first.usage.turns + second.usage.turns,
    },
    sessionId: second.sessionId ?? first.sessionId,
    ...(first.permissionDenials || second.permissionDenials
      ? { permissionDenials: [...(first.permissionDenials ?? []), ...(second.permissionDenials ?? [])] }
      : {}),
    ...(first.leftovers || second.leftovers
      ? { leftovers: [...(first.leftovers ?? []), ...(second.leftovers ?? [])] }
      : {}),
  };
}

/**
 * Runs `first`; when it ended well (exit 0, no failure) but without one of the run's required files,
 * nudges it once in the same thread (unattended-note.ts nudgePrompt) before returning: `nudged: true`.
 */
export async function launchWithNudge(
  input: RunAgentInput,
  files: CliRunFiles,
  first: LaunchPlan,
  launchOnce: (plan: LaunchPlan) => Promise<AgentRunResult>,
  hooks: { beforeNudge?: (result: AgentRunResult) => Promise<void> } = {},
): Promise<AgentRunResult> {
  const ctx = Context.current();
  const result = await launchOnce(first);
  await hooks.beforeNudge?.(result);
  const missing = missingFiles(input);
  const ended = result.status === 'exited' && result.exitCode === 0 && !result.failure;
  if (!ended || missing.length === 0 || result.sessionId === null || ctx.cancellationSignal.aborted) return result;
  const prompt = nudgePrompt(missing);
  await appendFile(
    resolveInRoot(input.root, files.prompt),
    `\n\n${LOG_SEPARATOR} nudge in thread ${result.sessionId} ---\n\n${prompt}\n`,
  );
  const nudged = await launchOnce({
    prompt,
    resumeId: result.sessionId,
    what: `nudge in thread ${result.sessionId}`,
    nudge: true,
  });
  return { ...combineLaunches(result, nudged), nudged: true };
}

/** The failure the adapter puts on a result, with the status the workflows before `failure` act on. */
export function withFailure(result: AgentRunResult, classified: AgentFailure | null): AgentRunResult {
  return classified === null ? result : { ...result, failure: classified };
}
