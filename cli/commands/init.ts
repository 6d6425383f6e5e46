import { access, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { LoopSpecSchema, type LoopSpecInput } from '../../protocol/schemas/loop-spec.js';
import { ExitCode, ExitError } from '../exit-codes.js';
import type { Output } from '../output.js';
import { formatIssues } from '../spec-file.js';

export interface InitOptions {
  file: string;
  name: string;
  goal: string;
  evidence: string;
  metric: string;
  direction?: 'maximize' | 'minimize';
  sessions?: number;
  executor?: string;
  reviewer?: string;
  root?: string;
  workspace?: string[];
  protected?: string[];
  force?: boolean;
}

/** Writes a loop spec from a plain Goal / Budget / Evidence brief; it is validated before it is written. */
export async function initCommand(options: InitOptions, out: Output): Promise<{ file: string }> {
  const spec: LoopSpecInput = {
    name: options.name,
    root: options.root ?? '.',
    goal: options.goal,
    budget: { sessions: options.sessions ?? 10, wallClock: '10h', perRun: '45m' },
    evidence: { command: options.evidence, metric: options.metric, direction: options.direction ?? 'maximize', plateau: 3, minDelta: 0 },
    workspace: options.workspace ?? [],
    protected: options.protected ?? [],
    executor: options.executor ? { name: 'executor', agent: 'shell', command: options.executor } : { agent: 'codex', model: 'gpt-5-codex' },
    reviewers: options.reviewer ? [{ name: 'reviewer', agent: 'shell', command: options.reviewer, required: true }] : [{ name: 'claude', agent: 'claude', required: true }],
    reviewWait: { startTimeout: '5m', doneTimeout: '30m', heartbeatTimeout: '10m', skipOnTimeout: true },
  };
  const parsed = LoopSpecSchema.safeParse(spec);
  if (!parsed.success) throw new ExitError(ExitCode.usage, formatIssues(options.file, parsed.error).join('\n'));
  if (!options.force) {
    const exists = await access(options.file).then(() => true, () => false);
    if (exists) throw new ExitError(ExitCode.failed, `${options.file} already exists\n  fix: pick another file name, or pass --force to overwrite it`);
  }
  const header = '# loop-station loop spec: `loop-station submit <this file>`; every field is in docs/loop-spec.md.\n';
  await writeFile(options.file, header + YAML.stringify(spec));
  out.log(`wrote ${options.file}; check it, then run: loop-station submit ${options.file}`);
  return { file: options.file };
}
