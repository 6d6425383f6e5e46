import { z } from 'zod';
import { durationProblem, parseDuration } from '../duration.js';

/** A duration in a spec (docs/protocol.md#durations): shared by the loop spec and the agent kinds' own fields. */
export const DurationSchema = z
  .union([z.string(), z.number()])
  .superRefine((v, ctx) => {
    if (parseDuration(v) === undefined) ctx.addIssue({ code: 'custom', message: durationProblem(v), input: v });
  })
  .meta({ description: 'A duration: 1h30m, 45m, 90s, 500ms, or a number of seconds' });
