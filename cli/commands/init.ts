import { lstat, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import YAML, { type Scalar, type YAMLMap } from 'yaml';
import { type InitResult, InitResultSchema } from '../../protocol/schemas/cli-output.js';
import { LoopSpecSchema, type LoopSpecInput } from '../../protocol/schemas/loop-spec.js';
import { SECRET_FIX, secretsInSpec } from '../../protocol/secret-shapes.js';
import { DECISION_CLASSES } from '../../protocol/vocabulary.js';
import { DEFAULT_MODELS } from '../../protocol/models.js';
import { UsageError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';
import { bareSecondsWarnings, formatIssues } from '../spec-file.js';

export interface InitOptions {
  file: string;
  name?: string | undefined;
  goal?: string | undefined;
  evidence?: string | undefined;
  metric?: string | undefined;
  direction?: 'maximize' | 'minimize';
  sessions?: number;
  wallClock?: string;
  perRun?: string;
  tokens?: number | undefined;
  costUsd?: number | undefined;
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
    'each event as JSON. scratch: folders the runs write outside the workspace (runs, checkpoints, ' +
    '**/wandb), whose changes are expected rather than recorded as CHANGED_OUTSIDE_WORKSPACE.',
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

/** The options that carry the brief, each with the spec field it fills (errors name the option). */
const OPTION_OF_FIELD: Record<string, string> = {
  name: '--name',
  goal: '--goal',
  'evidence.command': '--evidence',
  'evidence.metric': '--metric',
  'budget.sessions': '--sessions',
  'budget.wallClock': '--wall-clock',
  'budget.perRun': '--per-run',
  'budget.tokens': '--tokens',
  'budget.costUsd': '--cost-usd',
  root: '--root',
  'executor.command': '--executor',
  'reviewers.0.command': '--reviewer',
};

/** A value pasted from a brief: without a byte-order mark, CRLF line ends or surrounding whitespace. */
const clean = (value: string | undefined): string | undefined =>
  value
    ?.replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .trim();

/**
 * Patterns as given: each option value may hold several, separated by commas outside braces and
 * brackets (`eval.py, data/**`), as a brief lists them; `eval.{py,json}` stays one pattern.
 */
export function patternList(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const value of values ?? []) {
    let depth = 0;
    let part = '';
    for (const c of value) {
      if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && depth > 0) depth--;
      if (c === ',' && depth === 0) {
        out.push(part);
        part = '';
      } else part += c;
    }
    out.push(part);
  }
  return out.map((p) => clean(p)!).filter((p) => p !== '');
}

/** Spec files submit reads: YAML, or JSON by its extension. */
const SPEC_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Writes a loop spec from a goal, budget and evidence given as options; it is validated before it is written. */
export async function initCommand(options: InitOptions, out: Output): Promise<InitResult> {
  const given = {
    name: clean(options.name),
    goal: clean(options.goal),
    evidence: clean(options.evidence),
    metric: clean(options.metric),
  };
  const missing = (['name', 'goal', 'evidence', 'metric'] as const).filter((k) => !given[k]);
  if (missing.length)
    throw new UsageError(
      `init: ${missing.map((k) => `--${k}`).join(', ')}: ` +
        `${missing.length > 1 ? 'required options' : 'a required option'} not given (or empty)\n` +
        `  fix: give ${missing.length > 1 ? 'each' : 'it'} (loop-station init --help has an example); ` +
        'nothing was written',
    );
  for (const [flag, value] of [
    ['--executor', options.executor],
    ['--reviewer', options.reviewer],
  ] as const)
    if (value !== undefined && !clean(value))
      throw new UsageError(
        `init: ${flag}: empty\n` +
          `  fix: give its shell command, or leave ${flag} out for the default agent; nothing was written`,
      );
  const file = options.file;
  if (!SPEC_EXTENSIONS.includes(extname(file).toLowerCase()))
    throw new UsageError(
      `${file}: a loop spec is a .yaml, .yml or .json file\n` +
        '  fix: name it loop.yaml (or another *.yaml); nothing was written',
    );
  const executor = clean(options.executor);
  const reviewer = clean(options.reviewer);
  const spec: LoopSpecInput = {
    name: given.name!,
    root: clean(options.root) || '.',
    goal: given.goal!,
    budget: {
      sessions: options.sessions ?? 10,
      wallClock: clean(options.wallClock) ?? '10h',
      perRun: clean(options.perRun) ?? '45m',
      ...(options.tokens !== undefined ? { tokens: options.tokens } : {}),
      ...(options.costUsd !== undefined ? { costUsd: options.costUsd } : {}),
    },
    evidence: {
      command: given.evidence!,
      metric: given.metric!,
      direction: options.direction ?? 'maximize',
      plateau: 3,
      minDelta: 0,
    },
    workspace: patternList(options.workspace),
    protected: patternList(options.protected),
    executor: executor
      ? { name: 'executor', agent: 'shell', command: executor }
      : { agent: 'codex', model: DEFAULT_MODELS.codex },
    reviewers: reviewer
      ? [{ name: 'reviewer', agent: 'shell', command: reviewer, required: true }]
      : [{ name: 'claude', agent: 'claude', required: true }],
    reviewWait: { startTimeout: '5m', doneTimeout: '30m', heartbeatTimeout: '10m', skipOnTimeout: true },
  };
  const secrets = secretsInSpec(spec);
  if (secrets.length)
    throw new UsageError(
      secrets
        .map((f) => `${OPTION_OF_FIELD[f.path] ?? f.path}: holds what looks like ${f.what} (${f.masked})\n`)
        .join('') + `  fix: ${SECRET_FIX}; nothing was written`,
    );
  const parsed = LoopSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const lines = formatIssues(file, parsed.error).map((line) => {
      const field = line.slice(file.length + 2, line.indexOf(': ', file.length + 2));
      const flag = OPTION_OF_FIELD[field];
      if (!flag) return line;
      const message = line.slice(file.length + 2 + field.length + 2);
      if (field !== 'name' || message.includes('(got ')) return `${flag}: ${message}`;
      const slug = spec.name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 63);
      return `${flag}: ${message} (got ${JSON.stringify(spec.name)})${slug ? `; did you mean ${slug}?` : ''}`;
    });
    throw new UsageError(
      `${lines.join('\n')}\n  fix: correct the option${lines.length > 1 ? 's' : ''} above; nothing was written`,
    );
  }
  const text = extname(file).toLowerCase() === '.json' ? `${JSON.stringify(spec, null, 2)}\n` : renderSpec(spec);
  await writeSpecFile(file, text, options.force === true);
  for (const w of bareSecondsWarnings(spec as unknown as Record<string, unknown>)) {
    const flag = OPTION_OF_FIELD[w.field];
    out.log(`warning: ${flag ? w.message.replace(w.field, flag) : w.message}\n  fix: ${w.fix}`);
  }
  if (!out.json) out.log(`wrote ${file}; check it, then run: loop-station submit ${file}`);
  return emit(out, InitResultSchema.parse({ file, name: spec.name }));
}

/**
 * Writes the spec without following a symlink at `file`: a new file is created exclusively (a
 * name that exists, a dangling link included, is refused without --force); with --force the file
 * is written beside it and renamed over it, so a link is replaced, not written through.
 */
async function writeSpecFile(file: string, text: string, force: boolean): Promise<void> {
  const there = await lstat(file).catch(() => null);
  if (there?.isDirectory())
    throw new UsageError(`${file}: is a folder\n  fix: give a file path, such as ${join(file, 'loop.yaml')}`);
  const folder = dirname(file);
  if (
    !(await stat(folder).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    throw new UsageError(
      `${folder}: no such folder\n` +
        `  fix: create it first (mkdir -p ${folder}), or give a file in a folder that exists; nothing was written`,
    );
  const exists = () =>
    new UsageError(`${file}: already exists\n  fix: pick another file name, or pass --force to overwrite it`);
  if (!force) {
    if (there) throw exists();
    await writeFile(file, text, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EEXIST' ? exists() : error;
    });
    return;
  }
  const temp = join(folder, `.${process.pid}-${Date.now()}.init.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}
