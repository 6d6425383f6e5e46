import { sleep } from '@temporalio/workflow';

/**
 * Ends the current workflow task with a 1 ms timer, so the local activities it ran are recorded
 * before the workflow completes or continues as new: a signal arriving while such a task completes
 * makes the server refuse the completion, and the task would run those side effects again.
 */
export const settle = (): Promise<void> => sleep(1);
