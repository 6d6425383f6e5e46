import { createRequire } from 'node:module';
import type * as ClientModule from '@temporalio/client';
import type * as CommonModule from '@temporalio/common';

/**
 * The Temporal SDK's client packages, as the CLI loads them: with `require`. They are CommonJS, and
 * an ES-module import of one makes Node scan the source of every module it re-exports for export
 * names before it runs them: 40–60 ms more of each command's start (2026-12-06), which a
 * `stop --now` waits through. Types come from the packages as usual.
 */
const require = createRequire(import.meta.url);

type Sdk = Pick<
  typeof ClientModule,
  | 'ActivityFailure'
  | 'ChildWorkflowFailure'
  | 'Client'
  | 'Connection'
  | 'isGrpcDeadlineError'
  | 'WorkflowExecutionAlreadyStartedError'
  | 'WorkflowFailedError'
  | 'WorkflowNotFoundError'
  | 'WorkflowUpdateFailedError'
  | 'defaultGrpcRetryOptions'
  | 'makeGrpcRetryInterceptor'
> &
  Pick<typeof CommonModule, 'defaultPayloadConverter'>;

let loaded: Sdk | undefined;

/**
 * The SDK, loaded at its first use: a command refused for a bad spec file or flag answers without
 * loading it (`submit` of a bad spec file: 0.37 → 0.27 s, compiled, 2026-12-06).
 */
export function sdk(): Sdk {
  if (!loaded) {
    const client = require('@temporalio/client') as typeof ClientModule;
    const common = require('@temporalio/common') as typeof CommonModule;
    loaded = { ...client, defaultPayloadConverter: common.defaultPayloadConverter };
  }
  return loaded;
}

export type Client = ClientModule.Client;
export type Connection = ClientModule.Connection;
