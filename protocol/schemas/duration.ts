import { z } from 'zod';
import { durationProblem, parseDuration } from '../duration.js';

const DESCRIPTION = 'A duration: 1h30m, 45m, 90s, 500ms, or a number of seconds';

/** A duration in a spec (docs/protocol.md#durations): shared by the loop spec and the agent kinds' own fields. */
export const DurationSchema = z
  .union([z.string(), z.number()])
  .superRefine((v, ctx) => {
    if (parseDuration(v) === undefined) ctx.addIssue({ code: 'custom', message: durationProblem(v), input: v });
  })
  .meta({ description: DESCRIPTION });

/** A limit (a budget, a timeout): a duration longer than 0, since a limit of 0 would end every run as it starts. */
export const LimitSchema = z
  .union([z.string(), z.number()])
  .superRefine((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: durationProblem(v), input: v });
    else if (ms === 0)
      ctx.addIssue({
        code: 'custom',
        message: `must be longer than 0 (got ${JSON.stringify(v)}): a limit of 0 ends what it limits at once; leave the field out for its default, or give a duration such as 45m`,
        input: v,
      });
  })
  .meta({ description: `${DESCRIPTION}; more than 0` });
