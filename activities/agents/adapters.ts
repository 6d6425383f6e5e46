import { ApplicationFailure } from '@temporalio/common';
import type { AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { FailureType } from '../../protocol/failure-types.js';
import type { AgentKind } from '../../protocol/vocabulary.js';
import { runClaudeAgent } from './claude.js';
import { runCodexAgent } from './codex.js';
import type { RunAgentInput } from './run-agent.js';
import { runShellAgent } from './shell.js';

/** The adapter that runs each agent kind, typed by the kind union: a new kind needs its adapter here. */
export const AGENT_ADAPTERS: Readonly<Record<AgentKind, (input: RunAgentInput) => Promise<AgentRunResult>>> = {
  codex: runCodexAgent,
  claude: runClaudeAgent,
  shell: runShellAgent,
  external: async (input) => {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      nonRetryable: true,
      message: `${input.agent.token} is external: the engine launches nothing for it`,
    });
  },
};

/** Runs one agent with the adapter of its kind. */
export function runAgent(input: RunAgentInput): Promise<AgentRunResult> {
  return AGENT_ADAPTERS[input.agent.kind](input);
}
