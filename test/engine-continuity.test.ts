import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { claudeSays, claudeSequence, claudeUses } from './fixtures/fake-models/anthropic-messages.js';
import { codexRuns, codexSays, codexSequence } from './fixtures/fake-models/openai-responses.js';
import { FIXTURE_AGENTS, toyRoot, toySpec } from './helpers/loops.js';
import { useRealAgentClis } from './helpers/real-agent-clis.js';

/**
 * Issue 15 points 5 and 7 with the real pinned CLIs against fake model servers: a Codex executor
 * with `continuity: thread` keeps one conversation across three sessions, and a Claude supervisor
 * that writes its decision the way agents do (a loose block, then plain key: value lines) is
 * honoured over the built-in rules' suggestion.
 */

const clis = useRealAgentClis();

const label = (n: number) => String(n).padStart(3, '0');
const sessionDir = (n: number) => `loop_station/sessions/session_${label(n)}`;
/** The toy executor of session `n`, as Codex's exec_command tool runs it. */
const executorCommand = (n: number) =>
  `LOOP_STATION_SESSION=${label(n)} LOOP_STATION_SESSION_DIR=${sessionDir(n)} LOOP_STATION_AGENT=CODEX ${process.execPath} ${join(FIXTURE_AGENTS, 'toy-executor.mjs')}`;
/** A shell command that writes `lines` as session `n`'s decision.md, as a supervisor agent's Bash tool would. */
const writeDecision = (n: number, lines: string[]) =>
  `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} > ${sessionDir(n)}/decision.md`;

describe('agents that keep their thread and own their decision', () => {
  test('a Codex executor with continuity: thread resumes one thread over three sessions; a loose Claude decision is honoured', async () => {
    // Each session: the executor's tool call, then its final answer (two model calls).
    const codex = await clis.serve(
      codexSequence([1, 2, 3].flatMap((n) => [codexRuns(executorCommand(n)), codexSays(`Session ${n} done.`)])),
    );
    // Sessions 1 and 2 are decided by the agent (session 3 is the budget stop, which no agent is asked).
    const claude = await clis.serve(
      claudeSequence([
        claudeUses('claude-fake', 'Bash', {
          command: writeDecision(1, [
            'I read the evidence pack: x rose, but I want one more session on this axis before promoting.',
            '',
            '```',
            'reason: x rose by one; one more session on this axis before promoting',
            'protection: passed',
            'class: Keep',
            'session: 1',
            '```',
          ]),
        }),
        claudeSays('claude-fake', 'Decided.'),
        claudeUses('claude-fake', 'Bash', {
          command: writeDecision(2, [
            'Session 2 looks like session 1.',
            '',
            '- **Decision**: keep',
            '- session: session_002',
            '- rationale: the same change again; wait for a clearer signal',
          ]),
        }),
        claudeSays('claude-fake', 'Decided.'),
      ]),
    );
    process.env.ANTHROPIC_BASE_URL = claude.origin;
    const root = await toyRoot();
    const config = toySpec(root, clis.worker.taskQueue, {
      budget: { sessions: 3, perRun: '2m' },
      executor: {
        ...clis.codexAgent(codex),
        continuity: 'thread',
      },
      supervisor: {
        agent: 'claude',
        command: clis.claudeBin,
        model: 'claude-fake',
        env: ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'],
        allowedTools: ['Bash'],
      },
      reviewers: [],
    });
    const handle = await clis.worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId: `loop-continuity-${process.pid}-${Date.now()}`,
      taskQueue: clis.worker.taskQueue,
      args: [{ config }],
    });
    const result = (await handle.result()) as LoopResult;

    // The agent's keeps stand where the built-in rules would have promoted the rising x.
    expect(result.history.map((h) => h.class)).toEqual(['keep', 'keep', 'stop']);
    const decision = (n: number) => readFile(join(root, sessionDir(n), 'decision.md'), 'utf8');
    const key = (text: string, k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(text)?.[1];
    for (const n of [1, 2]) {
      const text = await decision(n);
      expect([key(text, 'class'), key(text, 'source'), key(text, 'session')]).toEqual(['keep', 'agent', label(n)]);
      // The keys the agent left out came from the engine's state, and decision.md says which.
      expect(text).toMatch(/^Note: CLAUDE supervisor: filled from the engine's state: .*\bmetric\b/m);
    }
    expect(key(await decision(1), 'reason')).toBe('x rose by one; one more session on this axis before promoting');
    expect(key(await decision(2), 'reason')).toBe('the same change again; wait for a clearer signal');

    // One Codex thread for all three sessions: sessions 2 and 3 call the model in session 1's thread,
    // and session 3's request still holds session 1's prompt (the conversation goes on).
    const calls = codex.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/v1/responses'));
    expect(calls).toHaveLength(6);
    const runOf = async (n: number) =>
      JSON.parse(await readFile(join(root, sessionDir(n), 'runs/CODEX-EXECUTOR.json'), 'utf8')) as {
        sessionId: string | null;
      };
    const ids = await Promise.all([1, 2, 3].map(async (n) => (await runOf(n)).sessionId));
    expect(ids[0]).toBeTruthy();
    expect(ids).toEqual([ids[0], ids[0], ids[0]]);
    expect(calls.slice(2).map((r) => r.headers['thread-id'])).toEqual([ids[0], ids[0], ids[0], ids[0]]);
    expect(calls[4]!.rawBody).toContain('EXECUTOR of session 001');
    expect(calls[4]!.rawBody).toContain('EXECUTOR of session 003');
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});
