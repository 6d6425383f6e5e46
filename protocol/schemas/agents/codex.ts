import { z } from 'zod';

/** Codex CLI (`codex exec`): its options in the loop spec, carried to the adapter as the agent's `options`. */

export const CodexOptionsSchema = z.strictObject({
  effort: z
    .enum(['minimal', 'low', 'medium', 'high', 'xhigh'])
    .optional()
    .meta({ description: 'Reasoning effort (`-c model_reasoning_effort`)' }),
  sandbox: z
    .enum(['read-only', 'workspace-write', 'danger-full-access'])
    .optional()
    .meta({ description: 'Sandbox mode (`-s`); default workspace-write, read-only for a reviewer' }),
  config: z.record(z.string(), z.string()).optional().meta({ description: 'Extra `-c key=value` overrides' }),
});
export type CodexOptions = z.infer<typeof CodexOptionsSchema>;

export const CodexCommandSchema = z
  .string()
  .min(1)
  .optional()
  .meta({ description: 'Path of the codex binary (default: codex on PATH)' });
