import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import YAML from 'yaml';
import { FIXTURE_AGENTS } from './loops.js';

/** The `loop-station` executable as a checkout runs it: the sources compiled into .loop-station/cli/ (scripts/checkout-cli.mjs). */
export const BIN = fileURLToPath(new URL('../../bin/loop-station.mjs', import.meta.url));

/**
 * `node` arguments for a `loop-station` command, from the CLI compiled once for this run
 * (test/global-setup.ts): the same code as BIN, in a folder of this run's own. Commands that start a
 * worker (`dev`, `demo`, `worker`) run BIN.
 */
export const cli = (args: readonly string[]): string[] => [inject('cliEntry'), ...args];

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command as a user would, stdin closed; never rejects: the exit code is part of the result. */
export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      {
        env: { ...process.env, NO_COLOR: '1', ...options.env },
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** `loop-station …` against the test run's dev server. */
export const runCli = (
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; connect?: boolean } = {},
) =>
  run(
    process.execPath,
    cli([...args, ...(options.connect === false ? [] : ['--address', inject('temporalAddress')])]),
    options,
  );

/** The real `temporal` binary as an independent client of the same server. */
export const runTemporal = (args: readonly string[]) =>
  run(inject('temporalBinary'), [
    ...args,
    '--address',
    inject('temporalAddress'),
    '--namespace',
    'default',
    '--disable-config-file',
    '--disable-config-env',
    '--color',
    'never',
  ]);

let specs = 0;
/**
 * Writes `<root>/loop.yaml` as a user would: the toy loop (toy-eval.mjs as evidence, toy-executor.mjs)
 * on the test worker's task queue, under a fresh name; `overrides` replace top-level fields.
 */
export async function writeToySpec(
  root: string,
  taskQueue: string,
  overrides: Record<string, unknown> = {},
): Promise<{ file: string; name: string }> {
  const name = `cli-${process.pid}-${Date.now()}-${specs++}`;
  const spec = {
    name,
    root: '.',
    goal: 'raise x',
    budget: { sessions: 2, perRun: '30s' },
    evidence: { command: `${process.execPath} eval.mjs`, metric: 'score' },
    workspace: ['work/**'],
    protected: ['eval.mjs'],
    executor: {
      name: 'toy_exec',
      agent: 'shell',
      command: `${process.execPath} ${join(FIXTURE_AGENTS, 'toy-executor.mjs')}`,
    },
    taskQueue,
    ...overrides,
  };
  const file = join(root, 'loop.yaml');
  await writeFile(file, YAML.stringify(spec));
  return { file, name };
}
