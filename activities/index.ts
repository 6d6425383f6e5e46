import type { Client } from '@temporalio/client';
import { runAgent } from './agents/adapters.js';
import {
  closeSession,
  finishLoop,
  lockFrame,
  readAgentDecision,
  recordBaseline,
  recordIntervention,
  type RecordInterventionInput,
  writeSelfReview,
} from './artifacts.js';
import { checkCodeVariant } from './code-variant.js';
import { runEvidence } from './evidence.js';
import { writeEvidencePack } from './evidence-pack.js';
import { fileBatch } from './file-batch.js';
import { notify } from './notify.js';
import { senderReader } from './senders.js';
import { assertRootAllowed } from './paths.js';
import { probeSetup, type SetupProbeInput } from './setup-probe.js';
import { stopRunsNow } from './stop-runs.js';
import {
  checkWorkspace,
  emitFlag,
  inspectExecutor,
  inspectReview,
  openSession,
  readExternalFlags,
  restore,
} from './session-steps.js';
import { watchFlags, type WatchFlagsInput } from './watch-flags.js';

export type { FileBatchResult, FileBatchStep } from './file-batch.js';
export type { EmitFlagInput, ExternalFlagInfo, FlagFields, ReviewFlagRowInput } from './session-steps.js';

export interface ActivityDeps {
  /** Absolute folders every loop root must lie in (worker option --allow-root). */
  allowRoots: readonly string[];
  /** For the flag watcher's externalFlag signals. */
  client: Client;
}

type RootedInput = { root: string } | { config: { root: string } };
const rootOf = (input: RootedInput): string => ('root' in input ? input.root : input.config.root);

/**
 * The worker's activities (docs/architecture.md#zones). Every one first checks that its loop root lies in an
 * allowed root, so a loop can never make this worker write elsewhere.
 */
export const createActivities = (deps: ActivityDeps) => {
  const guard =
    <I extends RootedInput, O>(fn: (input: I) => Promise<O>) =>
    async (input: I): Promise<O> => {
      assertRootAllowed(rootOf(input), deps.allowRoots);
      return fn(input);
    };
  return {
    lockFrame: guard(lockFrame),
    recordBaseline: guard(recordBaseline),
    openSession: guard(openSession),
    emitFlag: guard(emitFlag),
    inspectExecutor: guard(inspectExecutor),
    writeEvidencePack: guard(writeEvidencePack),
    writeSelfReview: guard(writeSelfReview),
    inspectReview: guard(inspectReview),
    readExternalFlags: guard(readExternalFlags),
    checkWorkspace: guard(checkWorkspace),
    restore: guard(restore),
    readAgentDecision: guard(readAgentDecision),
    closeSession: guard(closeSession),
    fileBatch: guard(fileBatch),
    finishLoop: guard(finishLoop),
    recordIntervention: guard((input: RecordInterventionInput) => recordIntervention(input, senderReader(deps.client))),
    notify: guard(notify),
    runEvidence: guard(runEvidence),
    checkCodeVariant: guard(checkCodeVariant),
    runAgent: guard(runAgent),
    stopRunsNow: guard(stopRunsNow),
    watchFlags: guard((input: WatchFlagsInput) => watchFlags(deps.client, input)),
    // Not guarded: a root outside the allowed ones is one of the things it reports.
    probeSetup: (input: SetupProbeInput) => probeSetup(input, deps.allowRoots),
  };
};

export type Activities = ReturnType<typeof createActivities>;
