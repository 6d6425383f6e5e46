import {
  type Client,
  isGrpcDeadlineError,
  type WorkflowHandle,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import {
  type Ack,
  ApproveInputSchema,
  DenyInputSchema,
  ExtendBudgetInputSchema,
  PauseInputSchema,
  RedirectInputSchema,
  StopInputSchema,
} from '../protocol/schemas/messages.js';
import {
  approveUpdate,
  denyUpdate,
  extendBudgetUpdate,
  pauseUpdate,
  redirectUpdate,
  resumeUpdate,
  stopUpdate,
} from '../workflows/messages.js';

/**
 * The dashboard's buttons, one entry each: the update it sends (the same definitions the CLI and
 * the workflow use), how the page's fields become its payload, and whether the page asks for a
 * Confirm first. The payload is parsed by the message's own schema before it leaves.
 */

interface Control {
  /** The button's accessible name. */
  label: string;
  schema: z.ZodType;
  /** Page fields → the update's input (before the schema parses it). */
  input(fields: Record<string, unknown>): unknown;
  confirm: boolean;
  /** Sends the parsed input as the update. */
  send(handle: WorkflowHandle, input: unknown): Promise<Ack>;
}

/** Ties an update definition to its entry: the schema's output is the update's argument. */
const control = <I>(update: UpdateDefinition<Ack, [I]>, c: Omit<Control, 'send'>): Control => ({
  ...c,
  send: (handle, input) => handle.executeUpdate(update, { args: [input as I] }),
});

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const optionalNumber = (v: unknown): number | undefined =>
  v === undefined || v === null || v === '' ? undefined : typeof v === 'number' ? v : Number(v);
const optionalText = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

export const CONTROLS = {
  stop: control(stopUpdate, {
    label: 'Stop',
    schema: StopInputSchema,
    confirm: true,
    input: (f) => ({ mode: 'after-session', reason: text(f.reason) }),
  }),
  'stop-now': control(stopUpdate, {
    label: 'Stop now',
    schema: StopInputSchema,
    confirm: true,
    input: (f) => ({ mode: 'now', reason: text(f.reason) }),
  }),
  pause: control(pauseUpdate, {
    label: 'Pause',
    schema: PauseInputSchema,
    confirm: false,
    input: (f) => ({ note: text(f.note) }),
  }),
  resume: control(resumeUpdate, {
    label: 'Resume',
    schema: PauseInputSchema,
    confirm: false,
    input: (f) => ({ note: text(f.note) }),
  }),
  approve: control(approveUpdate, {
    label: 'Approve',
    schema: ApproveInputSchema,
    confirm: false,
    input: (f) => ({ session: optionalNumber(f.session), note: text(f.note) }),
  }),
  deny: control(denyUpdate, {
    label: 'Deny',
    schema: DenyInputSchema,
    confirm: true,
    input: (f) => ({ session: optionalNumber(f.session), note: text(f.note) }),
  }),
  extend: control(extendBudgetUpdate, {
    label: 'Extend',
    schema: ExtendBudgetInputSchema,
    confirm: false,
    input: (f) =>
      Object.fromEntries(
        Object.entries({
          sessions: optionalNumber(f.sessions),
          wallClock: optionalText(f.wallClock),
          tokens: optionalNumber(f.tokens),
          costUsd: optionalNumber(f.costUsd),
          note: text(f.note),
        }).filter(([, v]) => v !== undefined),
      ),
  }),
  redirect: control(redirectUpdate, {
    label: 'Redirect',
    schema: RedirectInputSchema,
    confirm: false,
    input: (f) => ({ note: text(f.note) }),
  }),
} satisfies Record<string, Control>;

export type ControlName = keyof typeof CONTROLS;

export const isControlName = (name: string): name is ControlName => Object.hasOwn(CONTROLS, name);

/** What the page shows after a button: accepted with the loop's message, or why not. */
export type ControlAnswer =
  { accepted: true; message: string } | { accepted: false; status: 400 | 404 | 409 | 504; reason: string };

const UPDATE_DEADLINE_MS = 15_000;

/** The payload as the message's schema reads it, or the issues as `field: message` lines. */
export function controlPayload(
  name: ControlName,
  fields: Record<string, unknown>,
): { ok: true; input: unknown } | { ok: false; reason: string } {
  const parsed = CONTROLS[name].schema.safeParse(CONTROLS[name].input(fields));
  if (parsed.success) return { ok: true, input: parsed.data };
  return {
    ok: false,
    reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('\n'),
  };
}

/** Sends one control as an update and waits for the loop's answer, as `loop-station <command>` does. */
export async function sendControl(
  client: Client,
  workflowId: string,
  name: ControlName,
  fields: unknown,
): Promise<ControlAnswer> {
  const payload = controlPayload(name, fields && typeof fields === 'object' ? (fields as Record<string, unknown>) : {});
  if (!payload.ok) return { accepted: false, status: 400, reason: payload.reason };
  try {
    const ack = await client.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
      CONTROLS[name].send(client.workflow.getHandle(workflowId), payload.input),
    );
    return { accepted: true, message: ack.message };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError)
      return { accepted: false, status: 409, reason: error.cause?.message ?? error.message };
    // The server answers an update to a finished run with NOT_FOUND too.
    if (error instanceof WorkflowNotFoundError)
      return {
        accepted: false,
        status: 404,
        reason: `${workflowId} is not running: it has ended, or there is no such loop`,
      };
    if (isGrpcDeadlineError(error))
      return {
        accepted: false,
        status: 504,
        reason: `${workflowId} did not answer within ${UPDATE_DEADLINE_MS / 1000}s: no worker seems to run it; start one with \`loop-station worker\` (or \`loop-station dev\`)`,
      };
    throw error;
  }
}
