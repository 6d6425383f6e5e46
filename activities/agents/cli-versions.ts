/**
 * The agent CLIs the adapters are written and tested against (docs/architecture.md#agent-clis). Both change
 * flags and event shapes often: pin exactly, and move a pin only with the adapter tests green.
 */
export const AGENT_CLIS = {
  codex: { bin: 'codex', package: '@openai/codex', version: '0.169.0' },
  claude: { bin: 'claude', package: '@anthropic-ai/claude-code', version: '2.1.330' },
} as const;
export type AgentCliName = keyof typeof AGENT_CLIS;

/** `npm i -g @openai/codex@0.169.0`: the install command named in not_installed results. */
export const installHint = (name: AgentCliName): string =>
  `npm i -g ${AGENT_CLIS[name].package}@${AGENT_CLIS[name].version}`;
