import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult, LoopStatus } from '../protocol/schemas/messages.js';
import { statusQuery } from '../workflows/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { claudeToolScenario, claudeUsageLimitScenario } from './fixtures/fake-models/anthropic-messages.js';
import { codexToolScenario, codexUsageLimitScenario } from './fixtures/fake-models/openai-responses.js';
import type { Scenario } from './fixtures/fake-models/server.js';
import { FIXTURE_AGENTS, toyRoot, toySpec } from './helpers/loops.js';
import { useRealAgentClis } from './helpers/real-agent-clis.js';

/**
 * Whole sessions with the real pinned CLIs (Codex as executor, Claude as reviewer) pointed at fake
 * model servers on 127.0.0.1: the scripted tool calls make the agents really write their artifacts.
 */

const clis = useRealAgentClis();

/** The toy executor run by Codex's exec_command tool, with the session's contract spelled out. */
const executorCommand = `LOOP_STATION_SESSION=001 LOOP_STATION_SESSION_DIR=loop_station/sessions/session_001 LOOP_STATION_AGENT=CODEX ${process.execPath} ${join(FIXTURE_AGENTS, 'toy-executor.mjs')}`;
const reviewerCommand = `LOOP_STATION_SESSION=001 LOOP_STATION_SESSION_DIR=loop_station/sessions/session_001 LOOP_STATION_AGENT=CLAUDE LOOP_STATION_OUTPUT=loop_station/reviews/session_001/CLAUDE-SESSION001-REVIEWER-DONE.md ${process.execPath} ${join(FIXTURE_AGENTS, 'toy-reviewer.mjs')}`;

const reviewScript = {
  model: 'claude-fake',
  tool: { name: 'Bash', input: { command: reviewerCommand } },
  finalText: 'Review written.',
  usage: [
    { input: 300, cacheRead: 100, cacheWrite: 0, output: 40 },
    { input: 350, cacheRead: 0, cacheWrite: 0, output: 20 },
  ],
} as const;
const claudeReviews = claudeToolScenario(reviewScript);

async function agentsLoop(
  codexScenario: Scenario,
  budget: { sessions: number; tokens?: number | { limit: number; count: 'uncached' | 'total' } } = { sessions: 1 },
  claudeScenario: Scenario = claudeReviews,
  claudeKey = 'ANTHROPIC_API_KEY',
) {
  const codex = await clis.serve(codexScenario);
  const claude = await clis.serve(claudeScenario);
  process.env.ANTHROPIC_BASE_URL = claude.origin;
  const root = await toyRoot();
  const config = toySpec(root, clis.worker.taskQueue, {
    budget: { ...budget, perRun: '2m' },
    executor: {
      ...clis.codexAgent(codex),
    },
    reviewers: [
      {
        agent: 'claude',
        command: clis.claudeBin,
        model: 'claude-fake',
        env: [claudeKey, 'ANTHROPIC_BASE_URL'],
        allowedTools: ['Bash'],
        required: true,
      },
    ],
  });
  const handle = await clis.worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-agents-${process.pid}-${Date.now()}`,
    taskQueue: clis.worker.taskQueue,
    args: [{ config }],
  });
  return { root, handle, codex, claude };
}

/** The same session with the roles swapped: Claude executes and decides, Codex reviews. */
const sessionEnv = (agent: string, output: string) =>
  `LOOP_STATION_SESSION=001 LOOP_STATION_SESSION_DIR=loop_station/sessions/session_001 LOOP_STATION_AGENT=${agent} LOOP_STATION_OUTPUT=${output}`;
const claudeExecutorCommand = `${sessionEnv('CLAUDE', 'loop_station/sessions/session_001/executor_report.md')} ${process.execPath} ${join(FIXTURE_AGENTS, 'toy-executor.mjs')}`;
const codexReviewerCommand = `${sessionEnv('CODEX', 'loop_station/reviews/session_001/CODEX-SESSION001-REVIEWER-DONE.md')} ${process.execPath} ${join(FIXTURE_AGENTS, 'toy-reviewer.mjs')}`;
const claudeJudgeCommand = `${sessionEnv('CLAUDE', 'loop_station/sessions/session_001/decision.md')} ${process.execPath} ${join(FIXTURE_AGENTS, 'judge.mjs')}`;

const codexWorks = codexToolScenario({
  command: executorCommand,
  finalText: 'Session done.',
  usage: [
    { input: 10, cached: 0, output: 5, reasoning: 0 },
    { input: 10, cached: 0, output: 5, reasoning: 0 },
  ],
});

describe('a session with real agent CLIs', () => {
  test('Codex executes, Claude reviews, and the engine meters both', async () => {
    const { root, handle } = await agentsLoop(
      codexToolScenario({
        command: executorCommand,
        finalText: 'Session done.',
        usage: [
          { input: 1000, cached: 200, output: 50, reasoning: 10 },
          { input: 1100, cached: 900, output: 30, reasoning: 5 },
        ],
      }),
    );
    const result = (await handle.result()) as LoopResult;
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    // The budget counts uncached input plus output: Codex 2100 in of which 1100 cached, 80 out;
    // Claude 750 in (input + cache read) of which 100 cached, 60 out.
    expect(result.usage.tokens).toBe(2100 - 1100 + 80 + (750 - 100) + 60);
    expect(
      await readFile(join(root, 'loop_station/reviews/session_001/CLAUDE-SESSION001-REVIEWER-DONE.md'), 'utf8'),
    ).toMatch(/^verdict: supported$/m);
    const decision = await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');
    expect(decision).toMatch(/^reviews: CLAUDE:supported$/m);
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('the reverse pairing: Claude executes, Codex reviews, and a Claude supervisor decides', async () => {
    const claudeUsage = [
      { input: 200, cacheRead: 0, cacheWrite: 0, output: 20 },
      { input: 210, cacheRead: 0, cacheWrite: 0, output: 10 },
    ] as const;
    const executes = claudeToolScenario({
      model: 'claude-fake',
      tool: { name: 'Bash', input: { command: claudeExecutorCommand } },
      finalText: 'Session done.',
      usage: claudeUsage,
    });
    const decides = claudeToolScenario({
      model: 'claude-fake',
      tool: { name: 'Bash', input: { command: claudeJudgeCommand } },
      finalText: 'Decided.',
      usage: claudeUsage,
    });
    // One fake server for both Claude roles: the supervisor's prompt says who it is talking to.
    const claude = await clis.serve((req) =>
      req.rawBody.includes('the SUPERVISOR deciding session') ? decides(req) : executes(req),
    );
    const codex = await clis.serve(
      codexToolScenario({
        command: codexReviewerCommand,
        finalText: 'Review written.',
        usage: [
          { input: 50, cached: 0, output: 5, reasoning: 0 },
          { input: 60, cached: 0, output: 5, reasoning: 0 },
        ],
      }),
    );
    process.env.ANTHROPIC_BASE_URL = claude.origin;
    const root = await toyRoot({ 'judge-plan.json': JSON.stringify({ 1: 'keep' }) });
    const claudeAgent = {
      agent: 'claude' as const,
      command: clis.claudeBin,
      model: 'claude-fake',
      env: ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'],
      allowedTools: ['Bash'],
    };
    const config = toySpec(root, clis.worker.taskQueue, {
      budget: { sessions: 2, perRun: '2m' },
      executor: claudeAgent,
      supervisor: claudeAgent,
      reviewers: [
        {
          ...clis.codexAgent(codex),
          // A Codex reviewer runs read-only unless its spec says otherwise; this one runs a script that writes its review.
          sandbox: 'workspace-write',
          required: true,
        },
      ],
    });
    const handle = await clis.worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId: `loop-agents-rev-${process.pid}-${Date.now()}`,
      taskQueue: clis.worker.taskQueue,
      args: [{ config }],
    });
    const result = (await handle.result()) as LoopResult;
    // Session 1: the Claude supervisor's keep; session 2: the budget stop, which no supervisor is asked about.
    expect(result.history.map((h) => h.class)).toEqual(['keep', 'stop']);
    const decision = await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');
    expect([/^source: (.*)$/m.exec(decision)?.[1], /^reviews: (.*)$/m.exec(decision)?.[1]]).toEqual([
      'agent',
      'CODEX:supported',
    ]);
    expect(
      await readFile(join(root, 'loop_station/reviews/session_001/CODEX-SESSION001-REVIEWER-DONE.md'), 'utf8'),
    ).toMatch(/^verdict: supported$/m);
    // Claude ran twice in session 1 (executor, supervisor) and once in session 2, whose scripted command
    // writes session 1's report: that run was nudged once for session 2's. Codex reviewed both.
    const calls = claude.requests.filter((r) => r.url.startsWith('/v1/messages'));
    expect(calls.length).toBe(7);
    expect(
      calls.filter((r) =>
        r.rawBody.includes('You stopped without writing loop_station/sessions/session_002/executor_report.md'),
      ),
    ).toHaveLength(1);
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('the token budget is enforced from metered figures: the loop stops with budget_tokens', async () => {
    const { root, handle } = await agentsLoop(
      codexToolScenario({
        command: executorCommand,
        finalText: 'Session done.',
        usage: [
          { input: 1000, cached: 200, output: 50, reasoning: 10 },
          { input: 1100, cached: 900, output: 30, reasoning: 5 },
        ],
      }),
      // Counting all input, cached included, as every loop did before the count existed.
      { sessions: 5, tokens: { limit: 2500, count: 'total' } },
      // The reviewer's API streams at a real pace, so its run is still going when its meter reads
      // its first message (an instant stream let the run end first about half the time).
      claudeToolScenario({ ...reviewScript, gapMs: 250 }),
    );
    const result = (await handle.result()) as LoopResult;
    expect(result.stopReason).toBe('budget_tokens');
    expect(result.history.map((h) => h.class)).toEqual(['stop']);
    // The executor's 2180 tokens (all input plus output) leave the reviewer 320. Its first message
    // alone reports 401 (300 input, 100 cached, 1 output so far): its run is stopped at the limit
    // there, not after the session (which would have counted all 2990 it could be served).
    expect(result.usage.tokens).toBe(2581);
    expect(await readFile(join(root, 'loop_station/summaries/SESSION_LEDGER.md'), 'utf8')).toMatch(
      /tokens at 103% of the budget/,
    );
  });

  test('a reviewer that hits its usage limit waits for the reset inside the review window, then reviews', async () => {
    process.env.CLAUDE_CODE_OAUTH_TOKEN = 'sk-ant-oat-fake';
    // The reset lies 4 s after the limited call, as a real API's does (one fixed before the loop had
    // passed when a busy machine came to the call, and the engine then backs off 5 minutes).
    let resetAt = 0;
    const { root, handle } = await agentsLoop(
      codexWorks,
      { sessions: 1 },
      (req) => {
        if (!resetAt && req.url.startsWith('/v1/messages')) {
          resetAt = Math.ceil(Date.now() / 1000) + 4;
          return claudeUsageLimitScenario(resetAt)(req);
        }
        return claudeReviews(req);
      },
      'CLAUDE_CODE_OAUTH_TOKEN',
    );
    const result = (await handle.result()) as LoopResult;
    expect(resetAt).toBeGreaterThan(0);
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    expect(
      await readFile(join(root, 'loop_station/flags/session_001/CLAUDE-SESSION001-REVIEWER-HEARTBEAT.flag'), 'utf8'),
    ).toMatch(new RegExp(`^reason: usage limit; waiting until ${new Date(resetAt * 1000).toISOString()}$`, 'm'));
    expect(await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8')).toMatch(
      /^reviews: CLAUDE:supported$/m,
    );
    // The wait shows in the loop's phase and reaches the ledger and the session's decision.md.
    const waited = `session 001 waits for a usage reset until ${new Date(resetAt * 1000).toISOString()}`;
    expect(result.interventions.filter((i) => i.kind === 'usage_wait').map((i) => [i.note, i.via])).toEqual([
      [waited, 'engine'],
    ]);
    expect(await readFile(join(root, 'loop_station/summaries/SESSION_LEDGER.md'), 'utf8')).toContain(waited);
    expect(await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8')).toContain(waited);
  });

  test('a usage limit is waited out on a durable timer, then the executor runs again', async () => {
    let resetAt = 0;
    const normal = codexToolScenario({
      command: executorCommand,
      finalText: 'Session done.',
      usage: [
        { input: 10, cached: 0, output: 5, reasoning: 0 },
        { input: 10, cached: 0, output: 5, reasoning: 0 },
      ],
    });
    // The reset lies 4 s after the limited call, as in the test above.
    const { root, handle } = await agentsLoop((req) => {
      if (!resetAt && req.url === '/v1/responses') {
        resetAt = Math.ceil(Date.now() / 1000) + 4;
        return codexUsageLimitScenario(resetAt)(req);
      }
      return normal(req);
    });
    let waiting: LoopStatus | null = null;
    for (let i = 0; i < 200 && !waiting; i++) {
      const s = await handle.query(statusQuery).catch(() => null);
      if (s?.phase === 'usage_wait') waiting = s;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(waiting?.pending).toEqual({
      kind: 'usage_wait',
      session: 1,
      decision: null,
      until: new Date(resetAt * 1000).toISOString(),
      message: `waiting for usage reset until ${new Date(resetAt * 1000).toISOString()}`,
      command: null,
    });
    const result = (await handle.result()) as LoopResult;
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    const flags = await readdir(join(root, 'loop_station/flags/session_001'));
    expect(flags).toContain('CODEX-SESSION001-EXECUTOR-HEARTBEAT.flag');
    expect(
      await readFile(join(root, 'loop_station/flags/session_001/CODEX-SESSION001-EXECUTOR-HEARTBEAT.flag'), 'utf8'),
    ).toMatch(new RegExp(`^reason: usage limit; waiting until ${new Date(resetAt * 1000).toISOString()}$`, 'm'));
    expect(flags).toContain('CODEX-SESSION001-EXECUTOR-DONE.flag');
    expect(await readFile(join(root, 'loop_station/summaries/SESSION_LEDGER.md'), 'utf8')).toContain(
      `session 001 waits for a usage reset until ${new Date(resetAt * 1000).toISOString()}`,
    );
  });
});
