import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  Ack, ApproveInput, BudgetLimits, DenyInput, ExtendBudgetInput, ExternalFlagInput, LoopStatus, PauseInput, RedirectInput,
  SessionProgress, SessionStop, StopInput,
} from '../protocol/schemas/messages.js';

/**
 * Every message of the loop, defined once (docs/architecture.md#messages). The CLI imports these
 * definitions too, so its wire names cannot drift from the workflow's.
 */

// Updates: validated synchronously; a rejected update leaves nothing in history.
export const stopUpdate = defineUpdate<Ack, [StopInput]>('stop');
export const redirectUpdate = defineUpdate<Ack, [RedirectInput]>('redirect');
export const pauseUpdate = defineUpdate<Ack, [PauseInput]>('pause');
export const resumeUpdate = defineUpdate<Ack, [PauseInput]>('resume');
export const approveUpdate = defineUpdate<Ack, [ApproveInput]>('approve');
export const denyUpdate = defineUpdate<Ack, [DenyInput]>('deny');
export const extendBudgetUpdate = defineUpdate<Ack, [ExtendBudgetInput]>('extendBudget');

// Signals of the same names, for clients that can only signal (the UI's button, scripts):
// a signal cannot be rejected, so an invalid one is recorded as a rejected intervention.
export const stopSignal = defineSignal<[StopInput]>('stop');
export const redirectSignal = defineSignal<[RedirectInput]>('redirect');
export const pauseSignal = defineSignal<[PauseInput?]>('pause');
export const resumeSignal = defineSignal<[PauseInput?]>('resume');

/** Sent by the flag watcher (or a person) when an external agent wrote a flag file. */
export const externalFlagSignal = defineSignal<[ExternalFlagInput]>('externalFlag');

export const statusQuery = defineQuery<LoopStatus>('status');

// Between the loop and its session children.
export const sessionProgressSignal = defineSignal<[SessionProgress]>('sessionProgress');
export const sessionStopSignal = defineSignal<[SessionStop]>('sessionStop');
/** A budget raised by extendBudget while a session runs: its wall-clock timer and decision follow it. */
export const sessionBudgetSignal = defineSignal<[BudgetLimits]>('sessionBudget');
