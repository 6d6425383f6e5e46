import { z } from 'zod';

/** Codex CLI (`codex exec`): its options in the loop spec, carried to the adapter as the agent's `options`. */

export const CodexOptionsSchema = z.strictObject({
  effort: z
    .enum(['minimal', 'low', 'medium', 'high', 'xhigh'])
    .optional()
    .meta({ description: 'Reasoning effort (`-c model_reasoning_effort`)' }),
  sandbox: z.enum(['read-only', 'workspace-write', 'danger-full-access']).optional().meta({
    description:
      'Sandbox mode (`-s`); default workspace-write (read-only for a reviewer): writes only under the loop root, no network, and on Linux no GPU (bubblewrap shows a minimal /dev without /dev/nvidia*). read-only: writes nothing. danger-full-access: no sandbox (what a GPU job needs; run the worker in a container or VM instead). See docs/agent-setup.md#sandboxes',
  }),
  config: z.record(z.string(), z.string()).optional().meta({ description: 'Extra `-c key=value` overrides' }),
  price: z
    .strictObject({
      input: z.number().nonnegative().meta({ description: 'USD per million input tokens not served from the cache' }),
      cachedInput: z.number().nonnegative().meta({ description: 'USD per million cached input tokens' }),
      output: z.number().nonnegative().meta({ description: 'USD per million output tokens (reasoning included)' }),
    })
    .optional()
    .meta({
      description:
        "The model's price, overriding the shipped table (protocol/models.ts): Codex reports tokens, not cost, so its cost is computed from this",
    }),
});
export type CodexOptions = z.infer<typeof CodexOptionsSchema>;

export const CodexCommandSchema = z
  .string()
  .min(1)
  .optional()
  .meta({ description: 'Path of the codex binary (default: codex on PATH)' });
