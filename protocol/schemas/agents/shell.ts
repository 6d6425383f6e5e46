import { z } from 'zod';

/** Any command (`agent: shell`): no options beyond its command line. */

export const ShellOptionsSchema = z.strictObject({});

export const ShellCommandSchema = z
  .string()
  .min(1)
  .meta({ description: 'Shell command; the prompt arrives on stdin and in LOOP_STATION_PROMPT_FILE' });
