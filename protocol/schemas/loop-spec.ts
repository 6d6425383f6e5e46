import { z } from 'zod';
import { parseCriterion } from '../criteria.js';
import { parseDuration } from '../duration.js';
import { AGENT_KINDS, AGENT_TOKEN_RE, type AgentKind, BUILTIN_SUPERVISOR, DECISION_CLASSES } from '../vocabulary.js';
import { AGENT_KIND_SCHEMAS, type ShapeOf } from './agents/kinds.js';

/** The loop spec: the input of `loop-station submit` (DESIGN.md "The loop spec"). */

const DurationSchema = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, {
    message: 'must be a duration like 45m, 1h30m, 90s, 500ms or a number of seconds',
  })
  .meta({ description: 'A duration: 1h30m, 45m, 90s, 500ms, or a number of seconds' });

/** The first rule a workspace/protected/artifact glob breaks, as its message; undefined for a good glob. */
export function globProblem(glob: string): string | undefined {
  const got = `(got ${JSON.stringify(glob)})`;
  if (glob.startsWith('/')) return `must be relative to the loop root: remove the leading / ${got}`;
  if (/^[A-Za-z]:/.test(glob)) return `must be relative to the loop root: remove the drive ${glob.slice(0, 2)} ${got}`;
  if (glob.includes('\\')) return `must use / between folders: replace each \\ with / ${got}`;
  const segments = glob.split('/');
  if (segments.includes('..')) return `must stay inside the loop root: remove the .. segment ${got}`;
  if (segments.includes('')) return `must not have an empty segment: remove the doubled or trailing / ${got}`;
  return undefined;
}

// The same rules for editors (JSON Schema `pattern`); loop-spec.test.ts checks both agree.
const GLOB_PATTERN = String.raw`^(?![A-Za-z]:)(?!/)(?!.*\\)(?!(?:.*/)?\.\.(?:/|$))(?!.*//)(?!.*/$).+$`;

const GlobSchema = z
  .string()
  .min(1)
  .superRefine((glob, ctx) => {
    const problem = glob === '' ? undefined : globProblem(glob);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: glob });
  })
  .meta({ description: 'A relative POSIX glob under the loop root: `**` crosses folders, `*` and `?` stay in one', pattern: GLOB_PATTERN });

const CriterionSchema = z
  .string()
  .refine((v) => parseCriterion(v) !== undefined, { message: 'must read `<metric> <op> <number>`, op one of >= > <= < == !=' })
  .meta({ description: 'A criterion such as `ssim >= 0.80`' });

const NameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit')
  .meta({ description: 'Loop name; the workflow id becomes loop-<name>' });

const AgentNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._]{0,31}$/, 'must be 1-32 letters, digits, dots or underscores (no dashes): it becomes the agent token in flag names')
  .meta({ description: 'Roster name; upper-cased it is the agent token in flag names' });

const EnvNamesSchema = z
  .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'))
  .meta({ description: 'Names of worker environment variables passed through to the agent (values never leave the worker)' });

const commonAgentFields = {
  name: AgentNameSchema.optional(),
  model: z.string().min(1).optional().meta({ description: 'Model name passed to the agent CLI' }),
  instructions: z.string().optional().meta({ description: 'Extra instructions appended to the role prompt' }),
  env: EnvNamesSchema.optional(),
  timeout: DurationSchema.optional().meta({ description: 'Per-run limit for this agent; defaults to budget.perRun' }),
  required: z.boolean().optional().meta({ description: 'Reviewers only: whether the review gate waits for it (default true)' }),
};

/** One kind's spec: the common fields, `agent: <kind>`, and the kind's own fields (protocol/schemas/agents/). */
type AgentSpecShape<K extends AgentKind> = ShapeOf<typeof commonAgentFields & { agent: z.ZodLiteral<K> } & (typeof AGENT_KIND_SCHEMAS)[K]['specFields']>;
const agentSpecSchema = <K extends AgentKind>(kind: K): z.ZodObject<AgentSpecShape<K>, z.core.$strict> =>
  z.strictObject({ ...commonAgentFields, agent: z.literal(kind), ...AGENT_KIND_SCHEMAS[kind].specFields }) as z.ZodObject<AgentSpecShape<K>, z.core.$strict>;
type AgentSpecSchemaOf = { [K in AgentKind]: ReturnType<typeof agentSpecSchema<K>> }[AgentKind];

export const AgentSpecSchema = z.discriminatedUnion('agent', AGENT_KINDS.map(agentSpecSchema) as [AgentSpecSchemaOf, ...AgentSpecSchemaOf[]]);
export type AgentSpec = z.infer<typeof AgentSpecSchema>;

const LAUNCHED_KINDS = AGENT_KINDS.filter((k) => AGENT_KIND_SCHEMAS[k].launched);
const orList = (items: readonly string[]) => `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;

export const BudgetSpecSchema = z.strictObject({
  sessions: z.int().positive().meta({ description: 'Maximum number of sessions' }),
  wallClock: DurationSchema.optional(),
  perRun: DurationSchema.optional(),
  tokens: z.int().positive().optional(),
  costUsd: z.number().positive().optional(),
  resources: z.array(z.string()).optional(),
});

export const EvidenceSpecSchema = z.strictObject({
  command: z.string().min(1).meta({ description: 'Prints one JSON object of metrics on stdout' }),
  metric: z.string().min(1),
  direction: z.enum(['maximize', 'minimize']).default('maximize'),
  protect: z.array(CriterionSchema).default([]),
  success: z.array(CriterionSchema).default([]),
  plateau: z.int().positive().default(3),
  minDelta: z.number().nonnegative().default(0),
  timeout: DurationSchema.optional().meta({ description: 'Limit for one evidence run (default 30m)' }),
  artifacts: z.array(GlobSchema).default([]),
});

export const ReviewWaitSpecSchema = z.strictObject({
  startTimeout: DurationSchema.default('5m'),
  doneTimeout: DurationSchema.default('30m'),
  heartbeatTimeout: DurationSchema.default('10m'),
  skipOnTimeout: z.boolean().default(true),
  optionalDoneCount: z.int().nonnegative().default(0),
});

export const NotifySpecSchema = z.strictObject({
  webhook: z.url().optional(),
  command: z.string().min(1).optional(),
  events: z.array(z.string()).optional(),
});

export const LoopSpecSchema = z
  .strictObject({
    name: NameSchema,
    root: z.string().min(1).meta({ description: 'Loop output root; relative to the spec file' }),
    goal: z.string().trim().min(1),
    budget: BudgetSpecSchema,
    evidence: EvidenceSpecSchema,
    workspace: z.array(GlobSchema).default([]),
    protected: z.array(GlobSchema).default([]),
    executor: AgentSpecSchema,
    supervisor: z.union([z.literal('builtin'), AgentSpecSchema]).default('builtin'),
    reviewers: z.array(AgentSpecSchema).default([]),
    reviewWait: ReviewWaitSpecSchema.default({ startTimeout: '5m', doneTimeout: '30m', heartbeatTimeout: '10m', skipOnTimeout: true, optionalDoneCount: 0 }),
    askBefore: z.array(z.enum(DECISION_CLASSES)).default([]),
    taskQueue: z.string().min(1).default('loop-station'),
    continueAsNewEvery: z.int().positive().default(25),
    compactEvery: z.int().positive().default(3),
    notify: NotifySpecSchema.optional(),
    env: EnvNamesSchema.optional().meta({ description: 'Environment variable names passed to every agent' }),
  })
  .superRefine((spec, ctx) => {
    const seen = new Map<string, string>();
    const claim = (token: string, path: (string | number)[], role: string) => {
      if (!AGENT_TOKEN_RE.test(token)) {
        ctx.addIssue({ code: 'custom', path, message: `agent token ${token} is not valid: use letters, digits, dots, underscores` });
        return;
      }
      const prior = seen.get(token);
      // An unnamed executor and an agent supervisor may be the same agent (PROTOCOL.md §0).
      if (prior && !(prior === 'executor' && role === 'supervisor')) {
        ctx.addIssue({ code: 'custom', path, message: `agent name ${token} is already used by the ${prior}: names equal up to case are refused` });
      }
      seen.set(token, role);
    };
    claim(agentToken(spec.executor), ['executor', 'name'], 'executor');
    if (spec.supervisor !== 'builtin') claim(agentToken(spec.supervisor), ['supervisor', 'name'], 'supervisor');
    else if (seen.has(BUILTIN_SUPERVISOR)) ctx.addIssue({ code: 'custom', path: ['executor', 'name'], message: `${BUILTIN_SUPERVISOR} is reserved for the built-in supervisor` });
    spec.reviewers.forEach((r, i) => {
      if (agentToken(r) === BUILTIN_SUPERVISOR) ctx.addIssue({ code: 'custom', path: ['reviewers', i, 'name'], message: `${BUILTIN_SUPERVISOR} is reserved for the built-in supervisor` });
      else claim(agentToken(r), ['reviewers', i, 'name'], `reviewer #${i + 1}`);
    });
    if (!AGENT_KIND_SCHEMAS[spec.executor.agent].launched) {
      ctx.addIssue({ code: 'custom', path: ['executor', 'agent'], message: `the executor must be launched by the engine: use ${orList(LAUNCHED_KINDS)}` });
    }
    if (spec.supervisor !== 'builtin' && !AGENT_KIND_SCHEMAS[spec.supervisor.agent].launched) {
      ctx.addIssue({ code: 'custom', path: ['supervisor', 'agent'], message: `an ${spec.supervisor.agent} supervisor is not supported: use ${orList(['builtin', ...LAUNCHED_KINDS])}` });
    }
    const optional = spec.reviewers.filter((r) => r.required === false).length;
    if (spec.reviewWait.optionalDoneCount > optional) {
      ctx.addIssue({ code: 'custom', path: ['reviewWait', 'optionalDoneCount'], message: `is ${spec.reviewWait.optionalDoneCount} but only ${optional} reviewers are optional` });
    }
  });

export type LoopSpecInput = z.input<typeof LoopSpecSchema>;
export type LoopSpec = z.output<typeof LoopSpecSchema>;

/** The agent token of a spec agent: its name upper-cased, else its adapter name (PROTOCOL.md §0). */
export function agentToken(agent: AgentSpec): string {
  return (agent.name ?? agent.agent).toUpperCase();
}
