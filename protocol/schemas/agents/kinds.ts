import type { z } from 'zod';
import type { AgentKind } from '../../vocabulary.js';
import { ClaudeCommandSchema, ClaudeOptionsSchema } from './claude.js';
import { CodexCommandSchema, CodexOptionsSchema } from './codex.js';
import { ExternalOptionsSchema } from './external.js';
import { runFields } from './run-fields.js';
import { ShellCommandSchema, ShellOptionsSchema } from './shell.js';

/**
 * Every agent kind (AGENT_KINDS) with its schemas, in one table typed by the kind union: a new
 * adapter does not compile until its options are given. The loop spec builds each kind's fields
 * from it, the normalized config types `options` by it, and the adapter parses its options with it.
 */

export interface AgentKindSchemas {
  /** The kind's own spec fields besides `command`; the normalized config carries them as `options`. */
  options: z.ZodObject;
  /**
   * The kind's spec fields: its options, `command` where it has one (required for shell, a binary
   * path for a CLI), and for launched kinds how they are run (run-fields.ts: `idleTimeout`, `waitForChildren`).
   */
  specFields: z.ZodRawShape;
  /** The engine starts it as an activity; otherwise it only watches the agent's flags (reviewers only). */
  launched: boolean;
}

export const AGENT_KIND_SCHEMAS = {
  codex: {
    options: CodexOptionsSchema,
    specFields: { ...CodexOptionsSchema.shape, command: CodexCommandSchema, ...runFields('codex') },
    launched: true,
  },
  claude: {
    options: ClaudeOptionsSchema,
    specFields: { ...ClaudeOptionsSchema.shape, command: ClaudeCommandSchema, ...runFields('claude') },
    launched: true,
  },
  shell: {
    options: ShellOptionsSchema,
    specFields: { command: ShellCommandSchema, ...runFields('shell') },
    launched: true,
  },
  external: { options: ExternalOptionsSchema, specFields: {}, launched: false },
} as const satisfies Record<AgentKind, AgentKindSchemas>;

/** A zod shape type, kept exact: lets a schema built per kind keep that kind's own fields in its type. */
export type ShapeOf<T> = T extends z.core.$ZodShape ? T : never;
