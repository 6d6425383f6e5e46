import { closeSession, type CloseSessionInput, type SelfReviewInput, writeSelfReview } from './artifacts.js';
import { type EvidencePackResult, writeEvidencePack, type WriteEvidencePackInput } from './evidence-pack.js';
import { emitFlag, type EmitFlagInput, openSession, type OpenSessionInput } from './session-steps.js';

/**
 * Consecutive file steps of one session in one activity, in the order given: one local activity
 * (one worker round) instead of one per step, with the order on disk unchanged (docs/protocol.md#flag-order).
 * Each step is idempotent, so a retried batch redoes them exactly; a step that fails fails the
 * batch, and the steps after it do not run.
 */
export type FileBatchStep =
  | { step: 'openSession'; input: OpenSessionInput }
  | { step: 'emitFlag'; input: EmitFlagInput }
  | { step: 'writeEvidencePack'; input: WriteEvidencePackInput }
  | { step: 'writeSelfReview'; input: SelfReviewInput }
  | { step: 'closeSession'; input: CloseSessionInput };

export interface FileBatchInput {
  /** The loop root every step works in (the worker checks it; each step's own must equal it). */
  root: string;
  steps: FileBatchStep[];
}

/** Each step's result, in order (emitFlag: the name written; writeSelfReview, closeSession: null). */
export type FileBatchResult = (
  Awaited<ReturnType<typeof openSession>> | { name: string } | EvidencePackResult | null
)[];

const stepRoot = (s: FileBatchStep): string => ('root' in s.input ? s.input.root : s.input.config.root);

export async function fileBatch(input: FileBatchInput): Promise<FileBatchResult> {
  for (const s of input.steps) {
    if (stepRoot(s) !== input.root)
      throw new RangeError(`fileBatch: step ${s.step} works in ${stepRoot(s)}, not the batch's root ${input.root}`);
  }
  const out: FileBatchResult = [];
  for (const s of input.steps) {
    switch (s.step) {
      case 'openSession':
        out.push(await openSession(s.input));
        break;
      case 'emitFlag':
        out.push(await emitFlag(s.input));
        break;
      case 'writeEvidencePack':
        out.push(await writeEvidencePack(s.input));
        break;
      case 'writeSelfReview':
        await writeSelfReview(s.input);
        out.push(null);
        break;
      case 'closeSession':
        await closeSession(s.input);
        out.push(null);
        break;
    }
  }
  return out;
}
