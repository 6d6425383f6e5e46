import { mkdir, writeFile } from 'node:fs/promises';
import type { AgentConfig } from '../../protocol/schemas/loop-config.js';
import { runsDir } from '../../protocol/layout.js';
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

/** `runs/{AGENT}-{ROLE}.prompt.md|.log|.json` (PROTOCOL.md §1), with the prompt written. */
export async function prepareRun(input: RunAgentInput): Promise<RunFiles> {
  const base = `${runsDir(input.session)}/${input.agent.token}-${input.role}`;
  await mkdir(resolveInRoot(input.root, runsDir(input.session)), { recursive: true });
  const files = { prompt: `${base}.prompt.md`, log: `${base}.log`, result: `${base}.json` };
  await writeFile(resolveInRoot(input.root, files.prompt), input.prompt);
  return files;
}
