import { access, writeFile } from 'node:fs/promises';
import YAML, { type Scalar, type YAMLMap } from 'yaml';
import { type InitResult, InitResultSchema } from '../../protocol/schemas/cli-output.js';
import { LoopSpecSchema, type LoopSpecInput } from '../../protocol/schemas/loop-spec.js';
import { DECISION_CLASSES } from '../../protocol/vocabulary.js';
import { DEFAULT_MODELS } from '../../protocol/models.js';
import { UsageError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';
import { formatIssues } from '../spec-file.js';

export interface InitOptions {
  file: string;
  name: string;
  goal: string;
  evidence: string;
  metric: string;
  direction?: 'maximize' | 'minimize';
  sessions?: number;
  executor?: string | undefined;
  reviewer?: string | undefined;
  root?: string;
  workspace?: string[];
  protected?: string[];
  force?: boolean;
}

/** Where every field of the spec is described, in the repository and in the installed package. */
export const SPEC_REFERENCE = 'docs/loop-spec.md';

/** The spec's opening comment: how to run it, where its reference is, how durations are written. */
const HEADER = [
  ' A loop-station loop spec. Check it, then start the loop: loop-station submit <this file>',
  ` Every field, its allowed values and defaults: ${SPEC_REFERENCE} (in the loop-station repository`,
  ' and package). Durations: 45m, 1h30m, 90s, 500ms, or a number of seconds.',
].join('\n');

/** One comment per top-level block: what it is, the values it takes and their units. */
const BLOCK_COMMENTS: Record<string, string> = {
  name: 'Loop name: 1-63 lower-case letters, digits or dashes. The workflow id is loop-<name>.',
  root: 'Loop root, relative to this file: the folder the agents work in; loop_station/ is written there.',
  goal: 'What to improve, in plain words: every agent prompt starts with it.',
  budget: [
    'Limits; the loop stops at the first one reached. sessions: a whole number >= 1. wallClock: the',
    'whole loop; perRun: one agent or evidence run (durations). Optional: tokens (a whole number:',
    'uncached input plus output; { limit, count: total } counts cached input too) and costUsd (US',
    'dollars), summed over all agent runs; a run that crosses one is stopped at the limit.',
  ].join('\n'),
  evidence: [
    'How each session is measured. command: prints one JSON object of metrics on stdout (run in the',
    'root); metric: the key to improve; direction: maximize or minimize; plateau: sessions without a',
    "gain of at least minDelta (in the metric's unit) before the supervisor pivots. Optional: protect",
    'and success, criteria such as "ssim >= 0.80" (ops >= > <= < == !=); timeout (default 30m).',
  ].join('\n'),
  workspace: 'Files the executor may change: globs relative to the root (** crosses folders, * and ? do not).',
  protected: 'Files nobody may change (the evaluator, the data): a change is recorded as a violation and undone.',
  executor: [
    'The agent that changes the workspace each session. agent: codex (Codex CLI), claude (Claude Code)',
    'or shell (any command; the prompt arrives on stdin). Logins: a user logged in on the worker',
    'machine (`codex login`; `claude`, then /login) needs nothing here: the agents use that login.',
    'With an API key instead, set it in the worker environment and list its name under env (values',
    'never go in the spec): env: [CODEX_API_KEY] for codex (it ignores OPENAI_API_KEY),',
    'env: [ANTHROPIC_API_KEY] for claude. env also takes preset:gpu, preset:python and preset:proxy.',
    'Check it all with: loop-station doctor --spec <this file>',
  ].join('\n'),
  reviewers: [
    'Independent reviewers after each session: agent codex, claude, shell, or external (an agent you',
    'run yourself, answering through flag files). required: false lets the gate go on without it.',
  ].join('\n'),
  reviewWait: [
    'How long the review gate waits (durations): startTimeout for a reviewer to start, doneTimeout to',
    'finish, heartbeatTimeout of silence while it runs; skipOnTimeout: true goes on without it.',
  ].join('\n'),
};

/** Comments on fields init leaves out, appended at the end: the rest of what a spec can say. */
const MORE_FIELDS = wrap(
  'More fields (see the reference): askBefore: decisions that wait for `loop-station approve`, from ' +
    `${DECISION_CLASSES.join(', ')}. supervisor: builtin (the default) or an agent. taskQueue: the ` +
    'workers that run the agents (default loop-station). notify: a webhook and/or a command that gets ' +
    'each event as JSON.',
);

/** Comment text cut into lines of at most 98 characters, each led by a space (after the `#`). */
function wrap(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > 97) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => ` ${l}`).join('\n');
}

/** The spec as YAML with a comment before each block. */
export function renderSpec(spec: LoopSpecInput): string {
  const doc = new YAML.Document(spec);
  doc.commentBefore = HEADER;
  const items = (doc.contents as YAMLMap<Scalar<string>, unknown>).items;
  items.forEach((pair, i) => {
    const text = BLOCK_COMMENTS[pair.key.value];
    if (text !== undefined) pair.key.commentBefore = text.replace(/^/gm, ' ');
    pair.key.spaceBefore = i > 0;
  });
  doc.comment = MORE_FIELDS;
  return doc.toString({ lineWidth: 0 });
}

/** Writes a loop spec from a plain Goal / Budget / Evidence brief; it is validated before it is written. */
export async function initCommand(options: InitOptions, out: Output): Promise<InitResult> {
  const spec: LoopSpecInput = {
    name: options.name,
    root: options.root ?? '.',
    goal: options.goal,
    budget: { sessions: options.sessions ?? 10, wallClock: '10h', perRun: '45m' },
    evidence: {
      command: options.evidence,
      metric: options.metric,
      direction: options.direction ?? 'maximize',
      plateau: 3,
      minDelta: 0,
    },
    workspace: options.workspace ?? [],
    protected: options.protected ?? [],
    executor: options.executor
      ? { name: 'executor', agent: 'shell', command: options.executor }
      : { agent: 'codex', model: DEFAULT_MODELS.codex },
    reviewers: options.reviewer
      ? [{ name: 'reviewer', agent: 'shell', command: options.reviewer, required: true }]
      : [{ name: 'claude', agent: 'claude', required: true }],
    reviewWait: { startTimeout: '5m', doneTimeout: '30m', heartbeatTimeout: '10m', skipOnTimeout: true },
  };
  const parsed = LoopSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const lines = formatIssues(options.file, parsed.error);
    throw new UsageError(
      `${lines.join('\n')}\n  fix: correct the option${lines.length > 1 ? 's' : ''} above; nothing was written`,
    );
  }
  if (!options.force) {
    const exists = await access(options.file).then(
      () => true,
      () => false,
    );
    if (exists)
      throw new UsageError(
        `${options.file}: already exists\n  fix: pick another file name, or pass --force to overwrite it`,
      );
  }
  await writeFile(options.file, renderSpec(spec));
  if (!out.json) out.log(`wrote ${options.file}; check it, then run: loop-station submit ${options.file}`);
  return emit(out, InitResultSchema.parse({ file: options.file, name: options.name }));
}
