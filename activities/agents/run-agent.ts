import { mkdirSync, writeFileSync } from 'node:fs';
import type { AgentConfig } from '../../protocol/schemas/loop-config.js';
import { runFilePath, runsDir } from '../../protocol/layout.js';
import { resolveInRoot } from '../paths.js';

/** What every agent adapter (adapters.ts) gets: one run of one role in one session. */
export interface RunAgentInput {
  root: string;
  session: number;
  role: 'EXECUTOR' | 'SUPERVISOR' | 'REVIEWER';
  agent: AgentConfig;
  /** Environment variable names the loop passes to every agent (values stay in the worker). */
  loopEnv: readonly string[];
  prompt: string;
  /** Root-relative path of the artifact the agent must write. */
  output: string;
  timeoutMs: number | null;
  /** Every root-relative file the run must leave (the executor: report and proposal); default `[output]`. */
  mustWrite?: readonly string[];
  /** A thread (Codex thread id, Claude session id) to continue instead of starting a new conversation. */
  resumeThreadId?: string | null;
  /** Root-relative images to show the model: attached where the CLI can, else named in the prompt. */
  images?: readonly string[];
  /** The loop's evidence command: a reviewer may run it (Claude allowed tools), nothing else writes. */
  evidenceCommand?: string | null;
  /** No output and no file change under the root for this long: the run is stalled and killed. */
  idleTimeoutMs?: number | null;
  /** Wait for processes the agent left running (bounded by `timeoutMs`) instead of killing them. */
  waitForChildren?: boolean;
  /** What is left of the loop's metered budgets: a run that crosses one is stopped at the limit. */
  budgetLeft?: { tokens: number | null; costUsd: number | null; count: 'uncached' | 'total' } | null;
}

export interface RunFiles {
  prompt: string;
  log: string;
  result: string;
}

/** `runs/{AGENT}-{ROLE}.prompt.md|.log|.json` (docs/protocol.md#runs), with the prompt written. */
// Synchronous on purpose: microseconds each, where an asynchronous call waits its turn on the
// worker's busy event loop (flags.ts says what that measured); a run's start is on the session's path.
export function prepareRun(input: RunAgentInput): Promise<RunFiles> {
  mkdirSync(resolveInRoot(input.root, runsDir(input.session)), { recursive: true });
  const file = (kind: 'prompt' | 'log' | 'result') => runFilePath(input.session, input.agent.token, input.role, kind);
  const files = { prompt: file('prompt'), log: file('log'), result: file('result') };
  writeFileSync(resolveInRoot(input.root, files.prompt), input.prompt);
  return Promise.resolve(files);
}
