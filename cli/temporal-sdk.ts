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
const client = require('@temporalio/client') as typeof ClientModule;
const common = require('@temporalio/common') as typeof CommonModule;

export const {
  ActivityFailure,
  ChildWorkflowFailure,
  Client,
  Connection,
  isGrpcDeadlineError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} = client;
export type Client = ClientModule.Client;
export type Connection = ClientModule.Connection;
export const { defaultPayloadConverter } = common;
