import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { completionScript } from '../../cli/completion.js';
import { buildProgram } from '../../cli/program.js';
import { DEBIAN_INSTALL_TIMEOUT_MS, ensureDebianPackage } from '../helpers/debian-package.js';

/** `loop-station completion bash|zsh|fish`: each script parses in its shell and completes from the declarations. */

const program = buildProgram();

describe('loop-station completion', () => {
  let dir: string;
  beforeAll(async () => {
    // zsh and fish from Debian's packages, installed when missing: a shell that cannot be had fails, never skips.
    await ensureDebianPackage('/usr/bin/zsh', 'zsh');
    await ensureDebianPackage('/usr/bin/fish', 'fish');
    dir = await mkdtemp(join(tmpdir(), 'ls-completion-'));
    for (const shell of ['bash', 'zsh', 'fish'] as const)
      await writeFile(join(dir, shell), completionScript(program, shell));
  }, DEBIAN_INSTALL_TIMEOUT_MS);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('the bash script parses (bash -n)', () => {
    expect(() => execFileSync('bash', ['-n', join(dir, 'bash')])).not.toThrow();
  });

  /** COMPREPLY of the bash function for a command line whose last word is being completed. */
  const complete = (...words: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        `source ${join(dir, 'bash')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _loop_station; echo "\${COMPREPLY[*]}"`,
      ],
      { encoding: 'utf8' },
    ).trim();

  test('bash completes commands, subcommands, options and choices from the declarations', () => {
    expect(complete('loop-station', 'su')).toBe('submit');
    expect(complete('loop-station', 'server', '')).toBe('ensure status --help -h');
    expect(complete('loop-station', 'server', 'status', '--w')).toBe('--wait');
    expect(complete('loop-station', 'init', '--direction', '')).toBe('maximize minimize');
    expect(complete('loop-station', 'status', 'my-loop', '--js')).toBe('--json');
    expect(complete('loop-station', 'submit', '--tls-ca')).toBe('--tls-ca-path');
    expect(complete('loop-station', 'completion', '')).toBe('bash zsh fish --help -h');
  });

  test('the zsh script parses (zsh -n)', () => {
    expect(() => execFileSync('zsh', ['-n', join(dir, 'zsh')])).not.toThrow();
  });

  test('the fish script parses and completes (fish -n, complete -C)', () => {
    expect(() => execFileSync('fish', ['-n', join(dir, 'fish')])).not.toThrow();
    const out = execFileSync(
      'fish',
      ['-c', `source ${join(dir, 'fish')}; complete -C 'loop-station server status --w'`],
      { encoding: 'utf8' },
    );
    expect(out.split('\t')[0]).toBe('--wait');
  });
});
