import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { AGENT_KINDS, type AgentKind, CONTINUITY_MODES, DECISION_CLASSES } from '../vocabulary.js';
import { DEFAULT_ROTATE_EVERY } from '../continuity.js';
import { AGENT_KIND_SCHEMAS, type ShapeOf } from './agents/kinds.js';
import { runFieldConfig, type RunFieldValues } from './agents/run-fields.js';
import { agentToken, type AgentSpec, type LoopSpec } from './loop-spec.js';

/**
 * The normalized loop spec that crosses into the workflow: durations in milliseconds, the root
 * absolute, agent tokens resolved, defaults applied. JSON only, so it replays byte for byte.
 */

const agentConfigFields = {
  token: z.string(),
  model: z.string().nullable(),
  command: z.string().nullable(),
  required: z.boolean(),
  timeoutMs: z.int().nullable(),
  env: z.array(z.string()),
  instructions: z.string().nullable(),
  /** Stall detection (agents/run-fields.ts); absent: the kind's default, null: off. Absent in configs recorded before it. */
  idleTimeoutMs: z.int().positive().nullable().optional(),
  /** Wait for the processes the agent left running instead of killing them; absent: false. */
  waitForChildren: z.boolean().optional(),
  /** Absent in configs written before it: `fresh`. */
  continuity: z.enum(CONTINUITY_MODES).optional(),
  /** Sessions in one thread before a fresh one (continuity `thread`); absent: DEFAULT_ROTATE_EVERY. */
  rotateEvery: z.int().positive().optional(),
};
type AgentConfigShape<K extends AgentKind> = ShapeOf<
  typeof agentConfigFields & { kind: z.ZodLiteral<K>; options: (typeof AGENT_KIND_SCHEMAS)[K]['options'] }
>;
/** One kind's config: `options` are that kind's own spec fields (protocol/schemas/agents/). */
const agentConfigSchema = <K extends AgentKind>(kind: K): z.ZodObject<AgentConfigShape<K>, z.core.$strict> =>
  z.strictObject({
    ...agentConfigFields,
    kind: z.literal(kind),
    options: AGENT_KIND_SCHEMAS[kind].options,
  }) as z.ZodObject<AgentConfigShape<K>, z.core.$strict>;
type AgentConfigSchemaOf = { [K in AgentKind]: ReturnType<typeof agentConfigSchema<K>> }[AgentKind];

export const AgentConfigSchema = z.discriminatedUnion(
  'kind',
  AGENT_KINDS.map(agentConfigSchema) as [AgentConfigSchemaOf, ...AgentConfigSchemaOf[]],
);
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
/** The config of one agent kind, its `options` typed. */
export type AgentConfigOf<K extends AgentKind> = Extract<AgentConfig, { kind: K }>;

export const LoopConfigSchema = z.strictObject({
  name: z.string(),
  root: z.string(),
  goal: z.string(),
  budget: z.strictObject({
    sessions: z.int().positive(),
    wallClockMs: z.int().nullable(),
    perRunMs: z.int().nullable(),
    tokens: z.int().nullable(),
    /** What `tokens` counts; absent in configs written before it existed (they count `total`). */
    tokensCount: z.enum(['uncached', 'total']).optional(),
    costUsd: z.number().nullable(),
    resources: z.array(z.string()),
  }),
  evidence: z.strictObject({
    command: z.string(),
    metric: z.string(),
    direction: z.enum(['maximize', 'minimize']),
    protect: z.array(z.string()),
    success: z.array(z.string()),
    plateau: z.int().positive(),
    minDelta: z.number(),
    timeoutMs: z.int().positive(),
    artifacts: z.array(z.string()),
  }),
  workspace: z.array(z.string()),
  protected: z.array(z.string()),
  /** Folders whose changes the footprint expects (the spec's `scratch`); absent in configs written before it: none. */
  scratch: z.array(z.string()).optional(),
  executor: AgentConfigSchema,
  supervisor: AgentConfigSchema.nullable(),
  reviewers: z.array(AgentConfigSchema),
  reviewWait: z.strictObject({
    startMs: z.int().positive(),
    doneMs: z.int().positive(),
    heartbeatMs: z.int().positive(),
    skipOnTimeout: z.boolean(),
    optionalDoneCount: z.int().nonnegative(),
  }),
  askBefore: z.array(z.enum(DECISION_CLASSES)),
  /** Absent in configs written before these fields (recorded histories): read them through failurePolicy(). */
  askTimeout: z
    .strictObject({ afterMs: z.int().positive(), then: z.enum(['continue', 'stop']) })
    .nullable()
    .optional(),
  promoteUnreviewed: z.boolean().optional(),
  onFailure: z
    .strictObject({
      consecutive: z.int().positive(),
      action: z.enum(['pause', 'stop']),
      retries: z.int().nonnegative(),
      backoffMs: z.int().positive(),
    })
    .optional(),
  taskQueue: z.string(),
  continueAsNewEvery: z.int().positive(),
  compactEvery: z.int().positive(),
  notify: z
    .strictObject({
      webhook: z.string().nullable(),
      command: z.string().nullable(),
      events: z.array(z.string()).nullable(),
    })
    .nullable(),
  env: z.array(z.string()),
});
export type LoopConfig = z.infer<typeof LoopConfigSchema>;

export const DEFAULT_EVIDENCE_TIMEOUT_MS = 30 * 60_000;
const ms = (v: string | number | undefined): number | null => (v === undefined ? null : (parseDuration(v) ?? null));

function toAgentConfig(agent: AgentSpec, defaultTimeoutMs: number | null): AgentConfig {
  const {
    name: _name,
    agent: kind,
    model,
    instructions,
    env,
    timeout,
    required,
    continuity,
    rotateEvery,
    ...own
  } = agent;
  // The kind's own fields besides its command and run fields are its options (the spec is strict: nothing else is left).
  const { command, idleTimeout, waitForChildren, ...options } = own as { command?: string } & RunFieldValues;
  return {
    token: agentToken(agent),
    kind,
    model: model ?? null,
    command: command ?? null,
    required: required ?? true,
    timeoutMs: ms(timeout) ?? defaultTimeoutMs,
    env: env ?? [],
    instructions: instructions ?? null,
    ...runFieldConfig({ idleTimeout, waitForChildren }),
    continuity: continuity ?? 'fresh',
    rotateEvery: rotateEvery ?? DEFAULT_ROTATE_EVERY,
    options,
  } as AgentConfig;
}

function tokenLimit(tokens: LoopSpec['budget']['tokens']): number | null {
  if (tokens === undefined) return null;
  return typeof tokens === 'number' ? tokens : tokens.limit;
}

/** Turns a validated spec into the workflow's input; `root` must already be absolute. */
export function toLoopConfig(spec: LoopSpec, absoluteRoot: string): LoopConfig {
  const perRunMs = ms(spec.budget.perRun);
  return {
    name: spec.name,
    root: absoluteRoot,
    goal: spec.goal,
    budget: {
      sessions: spec.budget.sessions,
      wallClockMs: ms(spec.budget.wallClock),
      perRunMs,
      tokens: tokenLimit(spec.budget.tokens),
      tokensCount: typeof spec.budget.tokens === 'object' ? spec.budget.tokens.count : 'uncached',
      costUsd: spec.budget.costUsd ?? null,
      resources: spec.budget.resources ?? [],
    },
    evidence: {
      command: spec.evidence.command,
      metric: spec.evidence.metric,
      direction: spec.evidence.direction,
      protect: spec.evidence.protect,
      success: spec.evidence.success,
      plateau: spec.evidence.plateau,
      minDelta: spec.evidence.minDelta,
      timeoutMs: ms(spec.evidence.timeout) ?? DEFAULT_EVIDENCE_TIMEOUT_MS,
      artifacts: spec.evidence.artifacts,
    },
    workspace: spec.workspace,
    protected: spec.protected,
    scratch: spec.scratch,
    executor: toAgentConfig(spec.executor, perRunMs),
    supervisor: spec.supervisor === 'builtin' ? null : toAgentConfig(spec.supervisor, perRunMs),
    reviewers: spec.reviewers.map((r) => toAgentConfig(r, perRunMs)),
    reviewWait: {
      startMs: ms(spec.reviewWait.startTimeout)!,
      doneMs: ms(spec.reviewWait.doneTimeout)!,
      heartbeatMs: ms(spec.reviewWait.heartbeatTimeout)!,
      skipOnTimeout: spec.reviewWait.skipOnTimeout,
      optionalDoneCount: spec.reviewWait.optionalDoneCount,
    },
    askBefore: spec.askBefore,
    askTimeout: spec.askTimeout ? { afterMs: ms(spec.askTimeout.after)!, then: spec.askTimeout.then } : null,
    promoteUnreviewed: spec.promoteUnreviewed,
    onFailure: {
      consecutive: spec.onFailure.consecutive,
      action: spec.onFailure.action,
      retries: spec.onFailure.retries,
      backoffMs: ms(spec.onFailure.backoff)!,
    },
    taskQueue: spec.taskQueue,
    continueAsNewEvery: spec.continueAsNewEvery,
    compactEvery: spec.compactEvery,
    notify: spec.notify
      ? {
          webhook: spec.notify.webhook ?? null,
          command: spec.notify.command ?? null,
          events: spec.notify.events ?? null,
        }
      : null,
    env: spec.env ?? [],
  };
}
