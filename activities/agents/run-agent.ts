import { mkdir, writeFile } from 'node:fs/promises';
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
}

export interface RunFiles {
  prompt: string;
  log: string;
  result: string;
}

/** `runs/{AGENT}-{ROLE}.prompt.md|.log|.json` (docs/protocol.md#runs), with the prompt written. */
export async function prepareRun(input: RunAgentInput): Promise<RunFiles> {
  await mkdir(resolveInRoot(input.root, runsDir(input.session)), { recursive: true });
  const file = (kind: 'prompt' | 'log' | 'result') => runFilePath(input.session, input.agent.token, input.role, kind);
  const files = { prompt: file('prompt'), log: file('log'), result: file('result') };
  await writeFile(resolveInRoot(input.root, files.prompt), input.prompt);
  return files;
}
