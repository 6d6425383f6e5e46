import type { QueryDefinition, SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type {
  Ack,
  ApproveInput,
  BudgetLimits,
  DenyInput,
  ExtendBudgetInput,
  ExternalFlagInput,
  LoopStatus,
  PauseInput,
  RedirectInput,
  SessionProgress,
  SessionStop,
  StopInput,
} from '../protocol/schemas/messages.js';

/**
 * Every message of the loop, defined once. The CLI imports these definitions too, so its wire names
 * cannot drift from the workflow's; the loop handles each from one table (loop-messages.ts).
 */

/** A message's wire forms: an update (validated; a refusal leaves nothing in history), a signal, or both under one name. */
export interface MessageForms<I> {
  name: string;
  update?: UpdateDefinition<Ack, [I]>;
  /** A signal cannot be refused: the loop records an invalid one as a rejected intervention. */
  signal?: SignalDefinition<[I?]>;
}

/*
 * The definitions as @temporalio/workflow's defineUpdate, defineSignal and defineQuery make them (a
 * type and a name), written here because the CLI imports this module and would otherwise load the
 * whole workflow package at each command's start (~40 ms, 2026-12-06).
 * test/unit/message-definitions.test.ts holds them equal to the SDK's.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's own signature
const defineUpdate = <Ret, Args extends any[] = []>(name: string) =>
  ({ type: 'update', name }) as UpdateDefinition<Ret, Args>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's own signature
const defineSignal = <Args extends any[] = []>(name: string) => ({ type: 'signal', name }) as SignalDefinition<Args>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's own signature
const defineQuery = <Ret, Args extends any[] = []>(name: string) =>
  ({ type: 'query', name }) as QueryDefinition<Ret, Args>;

/** Both forms: for clients that can only signal (the UI's button, scripts). */
const updateAndSignal = <I>(name: string) => ({
  name,
  update: defineUpdate<Ack, [I]>(name),
  signal: defineSignal<[I?]>(name),
});
const updateOnly = <I>(name: string) => ({ name, update: defineUpdate<Ack, [I]>(name) });
const signalOnly = <I>(name: string) => ({ name, signal: defineSignal<[I?]>(name) });

export const stopMessage = updateAndSignal<StopInput>('stop');
export const redirectMessage = updateAndSignal<RedirectInput>('redirect');
export const pauseMessage = updateAndSignal<PauseInput>('pause');
export const resumeMessage = updateAndSignal<PauseInput>('resume');
export const approveMessage = updateOnly<ApproveInput>('approve');
export const denyMessage = updateOnly<DenyInput>('deny');
export const extendBudgetMessage = updateOnly<ExtendBudgetInput>('extendBudget');
/** Sent by the flag watcher (or a person) when an external agent wrote a flag file. */
export const externalFlagMessage = signalOnly<ExternalFlagInput>('externalFlag');
/** Sent by the running session child: the loop mirrors its phase. */
export const sessionProgressMessage = signalOnly<SessionProgress>('sessionProgress');

export const stopUpdate = stopMessage.update;
export const stopSignal = stopMessage.signal;
export const redirectUpdate = redirectMessage.update;
export const redirectSignal = redirectMessage.signal;
export const pauseUpdate = pauseMessage.update;
export const pauseSignal = pauseMessage.signal;
export const resumeUpdate = resumeMessage.update;
export const resumeSignal = resumeMessage.signal;
export const approveUpdate = approveMessage.update;
export const denyUpdate = denyMessage.update;
export const extendBudgetUpdate = extendBudgetMessage.update;
export const externalFlagSignal = externalFlagMessage.signal;
export const sessionProgressSignal = sessionProgressMessage.signal;

export const statusQuery = defineQuery<LoopStatus>('status');

// From the loop to its session child.
export const sessionStopSignal = defineSignal<[SessionStop]>('sessionStop');
/** A budget raised by extendBudget while a session runs: its wall-clock timer and decision follow it. */
export const sessionBudgetSignal = defineSignal<[BudgetLimits]>('sessionBudget');
/** `loop-station resume` while a run waits for a human's fix (phase blocked): the session runs it again. */
export const sessionResumeSignal = defineSignal('sessionResume');
