import { z } from 'zod';
import { DECISION_CLASSES, STOP_REASONS } from '../vocabulary.js';

/** What a loop tells the outside world (spec `notify:`): events that mean something, not just "finished". */
export const NOTIFY_EVENTS = [
  'review_ready',
  'decision_made',
  'new_best',
  'plateau',
  'budget_80',
  'blocked_on_approval',
  'usage_wait',
  'blocked',
  'decision_fallback',
  'loop_ended',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** The JSON body POSTed to the webhook and given on stdin to the command. */
export const NotificationSchema = z.strictObject({
  event: z.enum(NOTIFY_EVENTS),
  loop: z.string(),
  name: z.string(),
  session: z.int().nonnegative(),
  at: z.string(),
  message: z.string(),
  metric: z.string(),
  value: z.number().nullable(),
  best: z.number().nullable(),
  decision: z.enum(DECISION_CLASSES).nullable(),
  stopReason: z.enum(STOP_REASONS).nullable(),
});
export type Notification = z.infer<typeof NotificationSchema>;
