import { z } from 'zod';

/** Claude Code (`claude -p`): its options in the loop spec, carried to the adapter as the agent's `options`. */

export const ClaudeOptionsSchema = z.strictObject({
  permissionMode: z.enum(['default', 'acceptEdits', 'plan', 'bypassPermissions']).optional().meta({
    description:
      'Permission mode (`--permission-mode`); default acceptEdits: under `default` every write is denied in -p mode',
  }),
  allowedTools: z.array(z.string()).optional().meta({ description: 'Tools allowed without asking (`--allowedTools`)' }),
  bare: z
    .boolean()
    .optional()
    .meta({ description: 'Start without user or project skills, hooks, plugins and CLAUDE.md (`--bare`)' }),
  maxTurns: z.int().positive().optional().meta({ description: 'Turn limit of one run (`--max-turns`)' }),
});
export type ClaudeOptions = z.infer<typeof ClaudeOptionsSchema>;

export const ClaudeCommandSchema = z
  .string()
  .min(1)
  .optional()
  .meta({ description: 'Path of the claude binary (default: claude on PATH)' });
