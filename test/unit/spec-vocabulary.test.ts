import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, test } from 'vitest';
import { loadLoopSpec } from '../../cli/spec-file.js';
import { testdir } from '../helpers/testdir.js';

/** Every closed set a user writes in a loop spec: refused with the allowed values and the nearest one, accepted when right. */

const BASE = {
  name: 'vocab',
  root: '.',
  goal: 'raise x',
  budget: { sessions: 2 },
  evidence: { command: 'node eval.mjs', metric: 'score' },
  executor: { agent: 'shell', command: 'node run.mjs' },
};

async function load(fields: Record<string, unknown>): Promise<string> {
  const dir = await testdir();
  const file = join(dir, 'loop.yaml');
  await writeFile(file, YAML.stringify({ ...BASE, ...fields }));
  try {
    await loadLoopSpec(file);
    return 'ok';
  } catch (error) {
    return (error as Error).message.split('\n')[0]!;
  }
}

const EVENTS =
  'review_ready, decision_made, new_best, plateau, budget_80, blocked_on_approval, usage_wait, blocked, decision_fallback, loop_ended';
const CLASSES =
  'promote, keep, retire, return_to_best, pivot_axis, needs_more_evidence, needs_code_variant, stop, ask_user';
const DURATION = 'must be a duration such as 90s, 45m or 1h30m (units d h m s ms, no spaces) or a number of seconds';

describe('closed vocabularies in the loop spec', () => {
  test.for<[string, Record<string, unknown>, string]>([
    [
      'notify event',
      { notify: { command: 'cat', events: ['new-best'] } },
      `loop.yaml: notify.events.0: must be one of ${EVENTS} (got "new-best"); did you mean new_best?`,
    ],
    [
      'notify event far from all',
      { notify: { command: 'cat', events: ['finished'] } },
      `loop.yaml: notify.events.0: must be one of ${EVENTS} (got "finished")`,
    ],
    [
      'askBefore class',
      { askBefore: ['return-to-best'] },
      `loop.yaml: askBefore.0: must be one of ${CLASSES} (got "return-to-best"); did you mean return_to_best?`,
    ],
    [
      'agent kind',
      { executor: { agent: 'Claude-Code' } },
      'loop.yaml: executor.agent: must be one of codex, claude, shell, external (got "Claude-Code"); did you mean claude?',
    ],
    [
      'agent kind of a supervisor',
      { supervisor: { agent: 'codx' } },
      'loop.yaml: supervisor.agent: must be one of codex, claude, shell, external (got "codx"); did you mean codex?',
    ],
    [
      'built-in supervisor',
      { supervisor: 'built-in' },
      'loop.yaml: supervisor: must be builtin or a mapping (got "built-in"); did you mean builtin?',
    ],
    [
      'role field',
      { reviewer: [{ agent: 'shell', command: 'node review.mjs' }] },
      'loop.yaml: (top level): unknown field reviewer: remove or rename it; did you mean reviewers?',
    ],
    [
      'agent option field',
      { reviewers: [{ agent: 'claude', maxturns: 3 }] },
      'loop.yaml: reviewers.0: unknown field maxturns: remove or rename it; did you mean maxTurns?',
    ],
    [
      'budget field',
      { budget: { sessions: 2, wallclock: '2h' } },
      'loop.yaml: budget: unknown field wallclock: remove or rename it; did you mean wallClock?',
    ],
    [
      'duration',
      { budget: { sessions: 2, perRun: '10 min' } },
      `loop.yaml: budget.perRun: ${DURATION} (got "10 min"); did you mean 10m?`,
    ],
    [
      'duration with no reading',
      { reviewWait: { doneTimeout: 'a while' } },
      `loop.yaml: reviewWait.doneTimeout: ${DURATION} (got "a while")`,
    ],
    [
      'direction',
      { evidence: { command: 'node eval.mjs', metric: 'score', direction: 'max' } },
      'loop.yaml: evidence.direction: must be one of maximize, minimize (got "max"); did you mean maximize?',
    ],
    [
      'codex effort',
      { executor: { agent: 'codex', effort: 'hihg' } },
      'loop.yaml: executor.effort: must be one of minimal, low, medium, high, xhigh (got "hihg"); did you mean high?',
    ],
    [
      'codex sandbox',
      { executor: { agent: 'codex', sandbox: 'workspace_write' } },
      'loop.yaml: executor.sandbox: must be one of read-only, workspace-write, danger-full-access (got "workspace_write"); did you mean workspace-write?',
    ],
    [
      'claude permission mode',
      { executor: { agent: 'claude', permissionMode: 'acceptedits' } },
      'loop.yaml: executor.permissionMode: must be one of default, acceptEdits, plan, bypassPermissions (got "acceptedits"); did you mean acceptEdits?',
    ],
  ])('%s: refused with the allowed values', async ([, fields, message]) => {
    expect(await load(fields)).toBe(message);
  });

  test.for<[string, Record<string, unknown>]>([
    ['notify events', { notify: { command: 'cat', events: ['new_best', 'loop_ended'] } }],
    ['askBefore classes', { askBefore: ['promote', 'return_to_best'] }],
    [
      'agent kinds',
      {
        executor: { agent: 'claude' },
        supervisor: { agent: 'codex' },
        reviewers: [{ agent: 'external', name: 'person' }],
      },
    ],
    ['built-in supervisor', { supervisor: 'builtin' }],
    ['durations', { budget: { sessions: 2, perRun: '1h30m', wallClock: 5400 }, reviewWait: { doneTimeout: '45m' } }],
    ['direction', { evidence: { command: 'node eval.mjs', metric: 'score', direction: 'minimize' } }],
    [
      'agent options',
      {
        executor: { agent: 'codex', effort: 'high', sandbox: 'workspace-write' },
        reviewers: [{ agent: 'claude', permissionMode: 'acceptEdits', maxTurns: 3 }],
      },
    ],
  ])('%s: accepted when right', async ([, fields]) => {
    expect(await load(fields)).toBe('ok');
  });
});
