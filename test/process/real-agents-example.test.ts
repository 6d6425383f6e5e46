import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { loadLoopSpec } from '../../cli/spec-file.js';

/** examples/real-agents: the spec validates, and its evidence command measures the shipped baseline. */

const EXAMPLE = fileURLToPath(new URL('../../examples/real-agents/', import.meta.url));

test('loop.yaml is a valid spec for a logged-in user: no key in any env list', async () => {
  const { config } = await loadLoopSpec(join(EXAMPLE, 'loop.yaml'));
  expect(config.root).toBe(join(EXAMPLE, 'experiment'));
  expect([config.executor.kind, config.executor.env, config.executor.options]).toEqual([
    'codex',
    [],
    { effort: 'medium', sandbox: 'workspace-write' },
  ]);
  expect(config.reviewers.map((r) => [r.kind, r.env, r.options])).toEqual([
    [
      'claude',
      [],
      {
        permissionMode: 'acceptEdits',
        allowedTools: ['Read', 'Grep', 'Glob', 'Write', 'Bash(node eval.mjs)'],
        maxTurns: 40,
      },
    ],
  ]);
});

test('the evidence command prints one JSON object: the naive baseline passes 2 of 12 cases', () => {
  const run = spawnSync(process.execPath, ['eval.mjs'], { cwd: join(EXAMPLE, 'project'), encoding: 'utf8' });
  expect(run.status).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual({ pass_rate: 0.1667, passed: 2, cases: 12 });
});
