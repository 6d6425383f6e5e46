import { z } from 'zod';
import { parseDuration } from '../../duration.js';
import { LimitSchema } from '../duration.js';

/**
 * Spec fields of how the engine runs a launched agent (codex, claude, shell): stall detection and
 * processes left behind (docs/architecture.md#agent-stalls, #agent-leftovers). The normalized
 * config carries them as `idleTimeoutMs` and `waitForChildren` beside `options`.
 */

/** The idle timeout when the spec sets none: a CLI agent that is silent this long is stalled; a shell agent is never. */
export const DEFAULT_IDLE_TIMEOUT_MS = { codex: 20 * 60_000, claude: 20 * 60_000, shell: null } as const;

const WHO = {
  codex: { agent: 'Codex', state: 'the root or CODEX_HOME' },
  claude: { agent: 'Claude Code', state: 'the root or CLAUDE_CONFIG_DIR' },
  shell: { agent: 'the command', state: 'the root' },
} as const;

export const runFields = (kind: keyof typeof DEFAULT_IDLE_TIMEOUT_MS) => {
  const fallback = DEFAULT_IDLE_TIMEOUT_MS[kind];
  const who = WHO[kind];
  return {
    idleTimeout: z
      .union([z.literal('off'), LimitSchema])
      .optional()
      .meta({
        description: `No output from ${who.agent} and no file change under ${who.state} for this long: the run is stalled and its process tree killed; \`off\` turns it off (default ${fallback === null ? 'off' : `${fallback / 60_000}m`})`,
      }),
    waitForChildren: z
      .boolean()
      .optional()
      .meta({
        description: `When ${who.agent} exits, wait for the processes it left running (a training job under nohup), bounded by its timeout, instead of killing them (default false); either way they are listed in the run record`,
      }),
  };
};

export type RunFieldValues = { idleTimeout?: 'off' | string | number; waitForChildren?: boolean };

/** The config's `idleTimeoutMs` / `waitForChildren` from the spec's fields: only those the spec sets. */
export function runFieldConfig(fields: RunFieldValues): { idleTimeoutMs?: number | null; waitForChildren?: boolean } {
  return {
    ...(fields.idleTimeout === undefined
      ? {}
      : { idleTimeoutMs: fields.idleTimeout === 'off' ? null : (parseDuration(fields.idleTimeout) ?? null) }),
    ...(fields.waitForChildren === undefined ? {} : { waitForChildren: fields.waitForChildren }),
  };
}
