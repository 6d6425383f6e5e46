import { z } from 'zod';
import { FLAG_NAME_RE, formatFlagName, parseFlagName } from '../flag-name.js';
import { AGENT_TOKEN_RE, ROLES, STATUSES } from '../vocabulary.js';

/**
 * Flag file names (docs/protocol.md#flag-names). Apart from protocol/flag-name.ts, which the workflow bundle
 * imports at run time and so must not load zod (test/workflow-bundle.test.ts).
 */

/** The parts of a strict flag name. */
export const FlagNameSchema = z.strictObject({
  agent: z.string().regex(AGENT_TOKEN_RE),
  session: z.int().nonnegative(),
  role: z.enum(ROLES),
  status: z.enum(STATUSES),
  /** 1: no `-k` suffix. */
  occurrence: z.int().positive(),
});
export type FlagName = z.infer<typeof FlagNameSchema>;

/** Name ⇄ parts: `parse` reads the §2.1 grammar, `encode` writes it; `encode(parse(n)) === n`. */
export const FlagNameTextSchema = z.codec(
  z
    .string()
    .regex(FLAG_NAME_RE)
    .meta({ description: 'A strict flag file name: {AGENT}-SESSION{NNN}-{ROLE}-{STATUS}[-k].flag' }),
  FlagNameSchema,
  {
    // The pattern matched, so parseFlagName, which applies the same pattern, finds the parts.
    decode: (name) => parseFlagName(name)!,
    encode: formatFlagName,
  },
);
