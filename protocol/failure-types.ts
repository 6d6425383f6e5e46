/**
 * ApplicationFailure types that cross Temporal (sdk-typescript style: an activity's thrown error
 * becomes a failure whose `type` is the error's name). Retrying these cannot help.
 */
export const FailureType = {
  PathEscape: 'PathEscapeError',
  RootNotAllowed: 'RootNotAllowedError',
  RootInUse: 'RootInUseError',
  FlagCollision: 'FlagCollisionError',
  WorkspaceSymlink: 'WorkspaceSymlinkError',
  FramePattern: 'FramePatternError',
  ArtifactGate: 'ArtifactGateError',
  AgentNotInstalled: 'AgentNotInstalledError',
  AgentAuthMissing: 'AgentAuthMissingError',
  InvalidInput: 'InvalidInputError',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export const NON_RETRYABLE_FAILURE_TYPES: readonly string[] = Object.values(FailureType);
