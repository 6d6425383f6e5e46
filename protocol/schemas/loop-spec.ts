import { z } from 'zod';
import { parseCriterion } from '../criteria.js';
import { GLOB_PATTERN, globListProblems, globProblem, normalizeGlob } from '../glob.js';
import { ENV_ENTRY_HELP, ENV_PRESETS, envEntryProblem } from '../env-presets.js';
import { NOTIFY_EVENTS } from './notification.js';
import {
  AGENT_KINDS,
  AGENT_TOKEN_RE,
  type AgentKind,
  BUILTIN_SUPERVISOR,
  CONTINUITY_MODES,
  DECISION_CLASSES,
} from '../vocabulary.js';
import { AGENT_KIND_SCHEMAS, type ShapeOf } from './agents/kinds.js';
import { DurationSchema, LimitSchema } from './duration.js';

/** The loop spec: the input of `loop-station submit` (docs/loop-spec.md). */

const GlobSchema = z
  .string()
  .min(1)
  // `data/` is how people name a folder (as in .gitignore), `./eval.py` a file: `data`, `eval.py`.
  .overwrite(normalizeGlob)
  .superRefine((glob, ctx) => {
    const problem = glob === '' ? undefined : globProblem(glob);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: glob });
  })
  .meta({
    description:
      'A pattern relative to the loop root (picomatch: `**` crosses folders, `*` `?` `[a-z]` `{a,b}` stay in one; a leading `!` takes out what earlier patterns matched); see docs/patterns.md',
    pattern: GLOB_PATTERN,
  });

const GlobListSchema = z.array(GlobSchema).superRefine((globs, ctx) => {
  for (const { index, message } of globListProblems(globs))
    ctx.addIssue({ code: 'custom', path: [index], message, input: globs[index] });
});

const CriterionSchema = z
  .string()
  .refine((v) => parseCriterion(v) !== undefined, {
    message: 'must read `<metric> <op> <number>`, op one of >= > <= < == !=',
  })
  .meta({ description: 'A criterion such as `ssim >= 0.80`' });

const NameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit',
  )
  .meta({ description: 'Loop name; the workflow id becomes loop-<name>' });

const AgentNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._]{0,31}$/,
    'must be 1-32 letters, digits, dots or underscores (no dashes): it becomes the agent token in flag names',
  )
  .meta({ description: 'Roster name; upper-cased it is the agent token in flag names' });

const EnvEntrySchema = z.string().superRefine((entry, ctx) => {
  // NAME=value pasted from a shell: name the variable, never echo the value.
  const eq = entry.indexOf('=');
  if (eq > 0) {
    const name = entry.slice(0, eq).trim();
    ctx.addIssue({
      code: 'custom',
      message: `holds a value: give the variable's name only (${name}); its value stays in the worker's environment (got ${JSON.stringify(name)}=…)`,
      input: `${name}=…`,
    });
    return;
  }
  const problem = envEntryProblem(entry);
  if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (got ${JSON.stringify(entry)})`, input: entry });
});

const EnvNamesSchema = z.array(EnvEntrySchema).meta({
  description: `Worker environment variables passed through to the agent (values never leave the worker): each entry is ${ENV_ENTRY_HELP}. preset:gpu is ${ENV_PRESETS.gpu.join(', ')}; preset:python is ${ENV_PRESETS.python.join(', ')}; preset:proxy is ${ENV_PRESETS.proxy.join(', ')}. Values of names that look secret (KEY, TOKEN, SECRET, PASSWORD…), of well-known provider keys and of secret: names are redacted in everything the engine records; see docs/agent-setup.md#environment`,
});

const commonAgentFields = {
  name: AgentNameSchema.optional(),
  model: z.string().min(1).optional().meta({ description: 'Model name passed to the agent CLI' }),
  instructions: z.string().optional().meta({ description: 'Extra instructions appended to the role prompt' }),
  env: EnvNamesSchema.optional(),
  timeout: LimitSchema.optional().meta({ description: 'Per-run limit for this agent; defaults to budget.perRun' }),
  required: z
    .boolean()
    .optional()
    .meta({ description: 'Reviewers only: whether the review gate waits for it (default true)' }),
  continuity: z.enum(CONTINUITY_MODES).optional().meta({
    description:
      "`fresh` (default): every session starts a new conversation; `thread`: the agent's thread (Codex thread, Claude session) is resumed session after session, as one long conversation",
  }),
  rotateEvery: z.int().positive().optional().meta({
    description:
      'With `continuity: thread`: start a fresh thread (from the compact handoff) after this many sessions in one thread (default 10), or sooner when the CLI reports its context full',
  }),
};

/** One kind's spec: the common fields, `agent: <kind>`, and the kind's own fields (protocol/schemas/agents/). */
type AgentSpecShape<K extends AgentKind> = ShapeOf<
  typeof commonAgentFields & { agent: z.ZodLiteral<K> } & (typeof AGENT_KIND_SCHEMAS)[K]['specFields']
>;
const agentSpecSchema = <K extends AgentKind>(kind: K): z.ZodObject<AgentSpecShape<K>, z.core.$strict> =>
  z.strictObject({
    ...commonAgentFields,
    agent: z.literal(kind).meta({ description: 'The adapter: what the engine launches for this agent' }),
    ...AGENT_KIND_SCHEMAS[kind].specFields,
  }) as z.ZodObject<AgentSpecShape<K>, z.core.$strict>;
type AgentSpecSchemaOf = { [K in AgentKind]: ReturnType<typeof agentSpecSchema<K>> }[AgentKind];

export const AgentSpecSchema = z.discriminatedUnion(
  'agent',
  AGENT_KINDS.map(agentSpecSchema) as [AgentSpecSchemaOf, ...AgentSpecSchemaOf[]],
);
export type AgentSpec = z.infer<typeof AgentSpecSchema>;

const LAUNCHED_KINDS = AGENT_KINDS.filter((k) => AGENT_KIND_SCHEMAS[k].launched);
const orList = (items: readonly string[]) => `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;

export const BudgetSpecSchema = z.strictObject({
  sessions: z.int().positive().meta({ description: 'Maximum number of sessions' }),
  wallClock: LimitSchema.optional().meta({
    description: 'Wall-clock limit for the whole loop, from its start; the running agent is cancelled when it runs out',
  }),
  perRun: LimitSchema.optional().meta({
    description: "Default time limit of one agent run (an agent's own `timeout` overrides it)",
  }),
  tokens: z
    .union([
      z.int().positive(),
      z.strictObject({
        limit: z.int().positive().meta({ description: 'The token limit' }),
        count: z.enum(['uncached', 'total']).default('uncached').meta({
          description:
            'What counts: uncached = input not served from the cache, plus output (the default); total = all input, cached or not, plus output',
        }),
      }),
    ])
    .optional()
    .meta({
      description:
        'Token limit over all agent runs: a number (uncached input plus output) or { limit, count: uncached | total }. A run that crosses it is stopped at the limit; see docs/agent-setup.md#metering',
    }),
  costUsd: z.number().positive().optional().meta({
    description:
      'Cost limit in US dollars: Claude as it reports its cost, Codex from the price table of its model (price: on the agent overrides it). A run that crosses it is stopped at the limit',
  }),
  resources: z
    .array(z.string())
    .optional()
    .meta({ description: 'Free-form names of the resources the loop may use (contract.json `resource_pool`)' }),
});

export const EvidenceSpecSchema = z.strictObject({
  command: z.string().min(1).meta({ description: 'Prints one JSON object of metrics on stdout' }),
  metric: z.string().min(1).meta({ description: "The key of the metric to improve in the command's JSON object" }),
  direction: z
    .enum(['maximize', 'minimize'])
    .default('maximize')
    .meta({ description: 'Whether a higher or a lower metric is better' }),
  protect: z
    .array(CriterionSchema)
    .default([])
    .meta({ description: 'Protection criteria: a candidate that fails one is retired, never promoted' }),
  success: z
    .array(CriterionSchema)
    .default([])
    .meta({ description: 'Success criteria: when a promotion meets all of them, the loop asks whether to stop' }),
  plateau: z
    .int()
    .positive()
    .default(3)
    .meta({ description: 'Sessions without a promotion on one axis before the supervisor pivots to another' }),
  minDelta: z
    .number()
    .nonnegative()
    .default(0)
    .meta({ description: 'An improvement must exceed this to count as a promotion' }),
  timeout: LimitSchema.optional().meta({ description: 'Limit for one evidence run (default 30m)' }),
  artifacts: GlobListSchema.default([]).meta({
    description:
      "Patterns of files the evidence command writes that reviewers should see: copied after each run into the session's evidence/artifacts/, where the evidence pack pairs each image with the best session's",
  }),
});

export const ReviewWaitSpecSchema = z.strictObject({
  startTimeout: LimitSchema.default('5m').meta({
    description: 'A reviewer must start (RUNNING) within this of READY',
  }),
  doneTimeout: LimitSchema.default('30m').meta({ description: 'A reviewer must finish within this of its start' }),
  heartbeatTimeout: LimitSchema.default('10m').meta({
    description: 'An external reviewer must show life (HEARTBEAT or a change to its review) within this',
  }),
  skipOnTimeout: z
    .boolean()
    .default(true)
    .meta({ description: 'A missing required review is skipped (true) or turns the decision into ask_user (false)' }),
  optionalDoneCount: z
    .int()
    .nonnegative()
    .default(0)
    .meta({ description: 'Optional reviews the gate waits for, besides every required one' }),
});

export const OnFailureSpecSchema = z.strictObject({
  consecutive: z.int().positive().default(3).meta({
    description:
      'Consecutive sessions whose executor ended BLOCKED or TIMEOUT, or whose evidence failed, for the same reason before the circuit breaker acts',
  }),
  action: z.enum(['pause', 'stop']).default('pause').meta({
    description:
      'What the circuit breaker, and a baseline whose evidence fails, do: pause the loop (resume after the fix) or stop it',
  }),
  retries: z.int().nonnegative().default(4).meta({
    description:
      'Retries of one agent run after a transient failure (overloaded, 5xx, network reset), inside the same session',
  }),
  backoff: DurationSchema.default('30s').meta({
    description: 'Wait before the first retry; doubled for each further one, with jitter',
  }),
});

export const AskTimeoutSpecSchema = z.strictObject({
  after: DurationSchema.meta({ description: 'How long a question that would stop the loop early waits for an answer' }),
  then: z
    .enum(['continue', 'stop'])
    .default('continue')
    .meta({ description: 'What happens without an answer: continue (as deny) or stop (as approve)' }),
});

export const NotifySpecSchema = z.strictObject({
  webhook: z.url().optional().meta({ description: 'URL that gets each event as a JSON POST' }),
  command: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Shell command that gets each event as JSON on stdin, run in the loop root' }),
  events: z.array(z.enum(NOTIFY_EVENTS)).optional().meta({ description: 'Only these events are sent (default: all)' }),
});

/**
 * What a root path cannot mean here: no shell reads the spec, so `$HOME` or `~user` would be a
 * folder of that name, and `\` a character of a name on the POSIX machines loops run on.
 * (`~` and `~/…` are read as the home folder, by the CLI.)
 */
function rootProblem(root: string): string | undefined {
  const got = `(got ${JSON.stringify(root)})`;
  if (root.includes('\\')) return `must use / between folders: replace each \\ with / ${got}`;
  if (/\$(?:\w+|\{\w+\})/.test(root))
    return `names an environment variable, which is not expanded: write the folder's path ${got}`;
  if (/^~[^/]/.test(root)) return `~user is not expanded: write the folder's full path (~/ is your own home) ${got}`;
  return undefined;
}

export const LoopSpecSchema = z
  .strictObject({
    name: NameSchema,
    root: z
      .string()
      .min(1)
      .superRefine((root, ctx) => {
        const problem = rootProblem(root);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, input: root });
      })
      .meta({ description: 'Loop output root; relative to the spec file; `~/` is your home folder' }),
    goal: z
      .string()
      .trim()
      .min(1)
      .meta({ description: 'What the loop should achieve, in plain words; every agent prompt starts with it' }),
    budget: BudgetSpecSchema.meta({ description: 'How far the loop may go' }),
    evidence: EvidenceSpecSchema.meta({ description: 'How a candidate is measured' }),
    workspace: GlobListSchema.default([]).meta({
      description:
        'Patterns of the files the executor may change; snapshotted as code variants and restored by retire, return_to_best and pivot_axis',
    }),
    protected: GlobListSchema.default([]).meta({
      description:
        'Patterns of files nobody may change (the evaluator, the data); hashed three times a session; each must match a file when the loop starts',
    }),
    scratch: GlobListSchema.default([]).meta({
      description:
        "Patterns of folders (or files) outside the workspace that the executor's runs may write, such as runs, checkpoints, wandb or outputs: changes there are expected, not CHANGED_OUTSIDE_WORKSPACE findings. Outputs, not inputs: a best's variant does not hold them. May match nothing yet; no protected file may lie in them; see docs/patterns.md#scratch",
    }),
    executor: AgentSpecSchema.meta({
      description: 'The agent that works in the loop root each session (codex, claude or shell)',
    }),
    supervisor: z
      .union([z.literal('builtin'), AgentSpecSchema])
      .default('builtin')
      .meta({ description: "Who decides: `builtin` (the engine's rules) or an agent held to the same rules" }),
    reviewers: z
      .array(AgentSpecSchema)
      .default([])
      .meta({ description: 'Independent reviewers of each session; the review gate waits for the required ones' }),
    reviewWait: ReviewWaitSpecSchema.default({
      startTimeout: '5m',
      doneTimeout: '30m',
      heartbeatTimeout: '10m',
      skipOnTimeout: true,
      optionalDoneCount: 0,
    }).meta({ description: 'How long the review gate waits for each reviewer' }),
    askBefore: z
      .array(z.enum(DECISION_CLASSES))
      .default([])
      .meta({ description: 'Decision classes that wait for `loop-station approve` or `deny` before they take effect' }),
    askTimeout: z.union([z.null(), AskTimeoutSpecSchema]).default({ after: '1h', then: 'continue' }).meta({
      description:
        "A question whose approve would stop the loop early (an agent supervisor's stop, every success criterion met) waits this long; null waits for the answer however long",
    }),
    promoteUnreviewed: z.boolean().default(false).meta({
      description:
        'Whether the built-in supervisor may promote a session whose required review was skipped by skipOnTimeout (the decision is marked unreviewed either way)',
    }),
    onFailure: OnFailureSpecSchema.default({ consecutive: 3, action: 'pause', retries: 4, backoff: '30s' }).meta({
      description: 'What the loop does when agent runs fail: transient retries, and the circuit breaker',
    }),
    taskQueue: z.string().min(1).default('loop-station').meta({
      description: "Task queue of the loop's agents, evidence runs and file steps (route a loop to a GPU worker)",
    }),
    continueAsNewEvery: z
      .int()
      .positive()
      .default(25)
      .meta({ description: 'Sessions per workflow run before the loop continues as new (keeps its history small)' }),
    compactEvery: z
      .int()
      .positive()
      .default(3)
      .meta({ description: 'Write COMPACT_HANDOFF.md at every session whose number is a multiple of this' }),
    notify: NotifySpecSchema.optional().meta({ description: 'Where loop events are sent' }),
    env: EnvNamesSchema.optional().meta({
      description:
        'Environment variables passed to every agent and to the evidence command (names, NAME_* prefixes, preset:gpu, preset:python, preset:proxy, secret:NAME)',
    }),
  })
  .superRefine((spec, ctx) => {
    const seen = new Map<string, string>();
    const claim = (token: string, path: (string | number)[], role: string) => {
      if (!AGENT_TOKEN_RE.test(token)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `agent token ${token} is not valid: use letters, digits, dots, underscores`,
        });
        return;
      }
      const prior = seen.get(token);
      // An unnamed executor and an agent supervisor may be the same agent (docs/protocol.md#agent-tokens).
      if (prior && !(prior === 'executor' && role === 'supervisor')) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `agent name ${token} is already used by the ${prior}: names equal up to case are refused`,
        });
      }
      seen.set(token, role);
    };
    claim(agentToken(spec.executor), ['executor', 'name'], 'executor');
    if (spec.supervisor !== 'builtin') claim(agentToken(spec.supervisor), ['supervisor', 'name'], 'supervisor');
    else if (seen.has(BUILTIN_SUPERVISOR))
      ctx.addIssue({
        code: 'custom',
        path: ['executor', 'name'],
        message: `${BUILTIN_SUPERVISOR} is reserved for the built-in supervisor`,
      });
    spec.reviewers.forEach((r, i) => {
      if (agentToken(r) === BUILTIN_SUPERVISOR)
        ctx.addIssue({
          code: 'custom',
          path: ['reviewers', i, 'name'],
          message: `${BUILTIN_SUPERVISOR} is reserved for the built-in supervisor`,
        });
      else claim(agentToken(r), ['reviewers', i, 'name'], `reviewer #${i + 1}`);
    });
    if (!AGENT_KIND_SCHEMAS[spec.executor.agent].launched) {
      ctx.addIssue({
        code: 'custom',
        path: ['executor', 'agent'],
        message: `the executor must be launched by the engine: use ${orList(LAUNCHED_KINDS)}`,
      });
    }
    if (spec.supervisor !== 'builtin' && !AGENT_KIND_SCHEMAS[spec.supervisor.agent].launched) {
      ctx.addIssue({
        code: 'custom',
        path: ['supervisor', 'agent'],
        message: `an ${spec.supervisor.agent} supervisor is not supported: use ${orList(['builtin', ...LAUNCHED_KINDS])}`,
      });
    }
    const optional = spec.reviewers.filter((r) => r.required === false).length;
    if (spec.reviewWait.optionalDoneCount > optional) {
      ctx.addIssue({
        code: 'custom',
        path: ['reviewWait', 'optionalDoneCount'],
        message: `is ${spec.reviewWait.optionalDoneCount} but only ${optional} reviewers are optional`,
      });
    }
  });

export type LoopSpecInput = z.input<typeof LoopSpecSchema>;
export type LoopSpec = z.output<typeof LoopSpecSchema>;

/** The agent token of a spec agent: its name upper-cased, else its adapter name (docs/protocol.md#agent-tokens). */
export function agentToken(agent: AgentSpec): string {
  return (agent.name ?? agent.agent).toUpperCase();
}
