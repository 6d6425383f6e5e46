import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { applyClaudeEvent, claudeFailure, initialClaudeState } from '../../activities/agents/claude-events.js';
import { applyCodexEvent, codexFailure, initialCodexState } from '../../activities/agents/codex-events.js';
import { AGENT_CLIS } from '../../activities/agents/cli-versions.js';
import { CLI_MESSAGE_CASES } from '../fixtures/cli-messages/cases.js';

/**
 * Every file of the corpus of the pinned CLIs' real messages (test/fixtures/cli-messages/, written
 * by scripts/capture-cli-messages.ts from the real binaries against the fake model servers) is
 * classified into the failure class its case names: what the adapters read off a real run.
 */

const corpus = join(import.meta.dirname, '../fixtures/cli-messages');

const events = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.for(['codex', 'claude'] as const)('the %s corpus', (cli) => {
  const dir = join(corpus, `${cli}-${AGENT_CLIS[cli].version}`);
  const cases = CLI_MESSAGE_CASES.filter((c) => c.cli === cli);

  test('holds one capture per case of the pinned version, and nothing else', () => {
    const names = readdirSync(dir).sort();
    expect(names).toEqual(cases.flatMap((c) => [`${c.name}.json`, `${c.name}.jsonl`, `${c.name}.stderr.txt`]).sort());
  });

  test.for(cases.map((c) => [c.name, c] as const))('%s', ([name, c]) => {
    const meta = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as {
      exitCode: number | null;
      signal: string | null;
    };
    const stdout = readFileSync(join(dir, `${name}.jsonl`), 'utf8');
    const exit = {
      exitCode: meta.exitCode,
      signal: meta.signal,
      stderr: readFileSync(join(dir, `${name}.stderr.txt`), 'utf8'),
    };
    let classified;
    let denials: string[];
    if (cli === 'codex') {
      const state = initialCodexState();
      for (const e of events(stdout)) applyCodexEvent(state, e);
      classified = codexFailure(state, exit);
      denials = state.denials;
    } else {
      const state = initialClaudeState();
      for (const e of events(stdout)) applyClaudeEvent(state, e);
      classified = claudeFailure(state, exit);
      denials = state.result?.permissionDenials ?? [];
    }
    expect(classified === null ? null : { kind: classified.kind, code: classified.code }).toEqual(c.expect);
    if (classified?.kind === 'needs_human') expect(classified.fix).toEqual(expect.any(String));
    expect(denials).toEqual(c.denials ?? []);
  });
});
