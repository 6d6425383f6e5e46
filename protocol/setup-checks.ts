import { hasPreset } from './env-presets.js';
import type { AgentConfig, LoopConfig } from './schemas/loop-config.js';
import type { SetupCheck } from './schemas/doctor.js';

/**
 * Checks of a loop's setup that need nothing but its config (docs/agent-setup.md#sandboxes): does
 * the loop want GPUs, and can its Codex executor see them. The ones that need the worker's machine
 * (CLIs, logins, GPUs through the sandbox, the evidence command) are in activities/setup-probe.ts.
 */

/** The loop says it needs GPUs: `budget.resources: [gpu]`. */
export const declaresGpu = (config: Pick<LoopConfig, 'budget'>): boolean =>
  config.budget.resources.some((r) => r.toLowerCase() === 'gpu');

/** What makes a loop look like GPU work without saying so: its task queue's name, or preset:gpu. */
export function gpuHints(config: Pick<LoopConfig, 'taskQueue' | 'env' | 'executor'>): string[] {
  const hints: string[] = [];
  if (/gpu|cuda/i.test(config.taskQueue)) hints.push(`task queue ${config.taskQueue}`);
  if (hasPreset(config.env, 'gpu') || hasPreset(config.executor.env, 'gpu')) hints.push('preset:gpu');
  return hints;
}

/** Whether the doctor checks GPU visibility: declared, or hinted. */
export const wantsGpu = (config: Pick<LoopConfig, 'budget' | 'taskQueue' | 'env' | 'executor'>): boolean =>
  declaresGpu(config) || gpuHints(config).length > 0;

/** Codex's sandbox of an agent: its spec's, else `workspace-write` (what the adapter passes). */
export const codexSandbox = (agent: AgentConfig): string =>
  agent.kind === 'codex' ? (agent.options.sandbox ?? 'workspace-write') : 'none';

const HIDES_GPU = 'bubblewrap gives its commands a minimal /dev without /dev/nvidia* (openai/codex issues 19676, 3141)';
const SANDBOX_FIX =
  'set sandbox: danger-full-access on the executor (and confine the worker itself: a container or VM), or run the GPU job in the evidence command, which no sandbox wraps';

/**
 * A Codex executor whose sandbox hides the GPUs, in a loop that needs them: an error when the spec
 * declares `budget.resources: [gpu]`, a warning when the loop only looks like GPU work.
 */
export function sandboxCheck(config: Pick<LoopConfig, 'budget' | 'taskQueue' | 'env' | 'executor'>): SetupCheck | null {
  const sandbox = codexSandbox(config.executor);
  if (config.executor.kind !== 'codex' || sandbox === 'danger-full-access') return null;
  const hints = gpuHints(config);
  if (declaresGpu(config)) {
    return {
      id: 'sandbox',
      status: 'fail',
      message: `executor.sandbox: ${sandbox} hides the GPUs that budget.resources declares: ${HIDES_GPU}`,
      fix: SANDBOX_FIX,
    };
  }
  if (hints.length === 0) return null;
  return {
    id: 'sandbox',
    status: 'warn',
    message: `executor.sandbox: this loop looks like GPU work (${hints.join(', ')}) but Codex's ${sandbox} sandbox hides GPUs: ${HIDES_GPU}`,
    fix: `${SANDBOX_FIX}; or declare budget.resources: [gpu] to make this an error`,
  };
}

/** Every agent the engine launches, with where it sits in the spec. */
export function launchedAgents(config: LoopConfig): { role: string; agent: AgentConfig }[] {
  return [
    { role: 'executor', agent: config.executor },
    ...(config.supervisor ? [{ role: 'supervisor', agent: config.supervisor }] : []),
    ...config.reviewers.map((agent, i) => ({ role: `reviewers[${i}]`, agent })),
  ].filter(({ agent }) => agent.kind !== 'external');
}
