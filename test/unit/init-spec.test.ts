import { describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { renderSpec, SPEC_REFERENCE } from '../../cli/commands/init.js';
import { LoopSpecSchema, type LoopSpecInput } from '../../protocol/schemas/loop-spec.js';
import { DECISION_CLASSES } from '../../protocol/vocabulary.js';

/** The spec `init` writes explains itself: a comment per block, and the data unchanged by them. */

const spec: LoopSpecInput = {
  name: 'my-loop',
  root: '.',
  goal: 'Raise accuracy',
  budget: { sessions: 10, wallClock: '10h', perRun: '45m' },
  evidence: { command: 'python eval.py', metric: 'accuracy', direction: 'maximize', plateau: 3, minDelta: 0 },
  workspace: ['src/**'],
  protected: ['eval.py'],
  executor: { agent: 'codex', model: 'gpt-5-codex' },
  reviewers: [{ name: 'claude', agent: 'claude', required: true }],
  reviewWait: { startTimeout: '5m', doneTimeout: '30m', heartbeatTimeout: '10m', skipOnTimeout: true },
};
const text = renderSpec(spec);

/** The comment lines right above `key:` at the top level. */
const commentOf = (key: string): string => {
  const lines = text.split('\n');
  const at =
    lines.indexOf(`${key}:`) >= 0 ? lines.indexOf(`${key}:`) : lines.findIndex((l) => l.startsWith(`${key}: `));
  const above: string[] = [];
  for (let i = at - 1; i >= 0 && lines[i]!.startsWith('#'); i--) above.unshift(lines[i]!.slice(2));
  return above.join(' ');
};

describe('renderSpec', () => {
  test('parses back to exactly the spec, which validates', () => {
    expect(YAML.parse(text)).toEqual(spec);
    expect(LoopSpecSchema.safeParse(YAML.parse(text)).success).toBe(true);
  });

  test('points at the spec reference and says how durations are written', () => {
    expect(text.split('\n').slice(0, 3).join(' ')).toContain(SPEC_REFERENCE);
    expect(text).toMatch(/^# .*Durations: 45m, 1h30m, 90s, 500ms, or a number of seconds\.$/m);
  });

  test.for(Object.keys(spec))('block %s has a comment of its own', (key) => {
    expect(commentOf(key).length).toBeGreaterThan(20);
  });

  test('the comments give the allowed values and units', () => {
    expect(commentOf('evidence')).toContain('direction: maximize or minimize');
    expect(commentOf('budget')).toMatch(/costUsd \(US\s+dollars\)/);
    expect(commentOf('executor')).toMatch(/codex \(Codex CLI\), claude \(Claude Code\) or shell/);
    // A logged-in user needs no spec line; the API-key alternative is named.
    expect(commentOf('executor')).toMatch(/logged in.*codex login.*use that login.*CODEX_API_KEY.*ANTHROPIC_API_KEY/);
    expect(commentOf('executor')).toContain('loop-station doctor --spec');
    const flat = text.replace(/\n# /g, ' ');
    for (const c of DECISION_CLASSES) expect(flat).toMatch(new RegExp(`[ ,]${c}[,.]`));
  });

  test('every agent kind the comments name is one the spec takes', () => {
    const kinds = ['codex', 'claude', 'shell', 'external'];
    for (const kind of kinds) {
      expect(commentOf('executor') + commentOf('reviewers')).toContain(kind);
      const reviewer = { name: 'second', agent: kind, ...(kind === 'shell' ? { command: 'true' } : {}) };
      expect(LoopSpecSchema.safeParse({ ...spec, reviewers: [reviewer] }).success, kind).toBe(true);
    }
  });

  test('no comment line is wider than 100 characters', () => {
    expect(text.split('\n').filter((l) => l.startsWith('#') && l.length > 100)).toEqual([]);
  });
});
