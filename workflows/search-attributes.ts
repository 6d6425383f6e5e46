import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes (registered by `loop-station dev` and the cluster scripts): the loop
 * upserts them as it moves, so `temporal workflow list --query 'LoopPhase="review"'` finds loops.
 */
export const LoopName = defineSearchAttributeKey('LoopName', SearchAttributeType.KEYWORD);
export const LoopPhaseKey = defineSearchAttributeKey('LoopPhase', SearchAttributeType.KEYWORD);
export const LoopSession = defineSearchAttributeKey('LoopSession', SearchAttributeType.INT);
export const LoopBest = defineSearchAttributeKey('LoopBest', SearchAttributeType.DOUBLE);
