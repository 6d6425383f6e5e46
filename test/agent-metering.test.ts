import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { runClaudeAgent } from '../activities/agents/claude.js';
import { runCodexAgent } from '../activities/agents/codex.js';
import { countedTokens } from '../protocol/budget.js';
import { CODEX_PRICES, codexCostUsd, type TokenPrice } from '../protocol/models.js';
import type { RunAgentInput } from '../activities/agents/run-agent.js';
import { agentCliSuite, agentConfig, mockActivity, runInput } from './helpers/agent-runs.js';
import { testdir } from './helpers/testdir.js';
import { messageStream } from './fixtures/fake-models/anthropic-messages.js';
import {
  assistantText,
  execCommand,
  fakeProviderConfig,
  responseStream,
  type ResponsesUsage,
} from './fixtures/fake-models/openai-responses.js';
import type { RecordedRequest, Scenario } from './fixtures/fake-models/server.js';

/**
 * Honest metering with the real CLIs: Codex's cost from the price table of its model, budgets
 * enforced during a run (a model that keeps the turn going with tool calls is stopped at the
 * limit, not after the session), and a CLI outside its supported range refused before it runs.
 */

const codex = agentCliSuite('codex');
const claude = agentCliSuite('claude');

const KEY = 'FAKE_CODEX_KEY';
/** Each model call: 3000 input of which 1000 cached, 100 output: 2100 uncached tokens. */
const CALL: ResponsesUsage = { input: 3000, cached: 1000, output: 100, reasoning: 0 };
const MAX_CALLS = 15;

/** A model that never finishes on its own: a tool call per request, up to MAX_CALLS, then a final message. */
function endlessTools(): Scenario {
  let calls = 0;
  return (req: RecordedRequest) => {
    if (req.method !== 'POST' || !req.url.startsWith('/v1/responses')) return undefined;
    calls += 1;
    if (calls > MAX_CALLS) return responseStream(`r${calls}`, [assistantText(`m${calls}`, 'done')], CALL);
    return responseStream(`r${calls}`, [execCommand(`c${calls}`, `sleep 0.2; echo step ${calls}`)], CALL);
  };
}

const modelCalls = (requests: readonly RecordedRequest[]) => requests.filter((r) => r.url.startsWith('/v1/responses'));

async function codexInput(
  origin: string,
  options: { model?: string; price?: TokenPrice; budgetLeft?: RunAgentInput['budgetLeft'] } = {},
) {
  vi.stubEnv(KEY, 'sk-fake-codex');
  // The scripted models write no file: the run's output is there already, so no nudge adds a model call.
  const root = await testdir({ 'report.md': 'ready\n' });
  return runInput(
    root,
    agentConfig('codex', {
      model: options.model ?? 'gpt-5-codex',
      command: codex.binary(),
      env: [KEY],
      options: { config: fakeProviderConfig(origin, KEY), ...(options.price ? { price: options.price } : {}) },
    }),
    { budgetLeft: options.budgetLeft ?? null },
  );
}

describe('Codex metering', () => {
  test('a token budget stops a run mid-way at the limit, with the tokens it used and the budget it crossed', async () => {
    const server = await codex.serve(endlessTools());
    const limit = 8000;
    const input = await codexInput(server.origin, { budgetLeft: { tokens: limit, costUsd: null, count: 'uncached' } });
    const result = await mockActivity().run(runCodexAgent, input);

    expect(result).toMatchObject({
      status: 'timeout',
      failure: { kind: 'budget', code: 'budget_tokens' },
      reason: `stopped at the limit: the run crossed the ${limit} uncached tokens left of the loop's token budget`,
    });
    const counted = countedTokens(result.usage, 'uncached');
    const calls = modelCalls(server.requests).length;
    // Stopped at the limit: past it, but within a few model calls of it, far from the model's own end.
    expect(counted).toBeGreaterThanOrEqual(limit);
    expect(counted).toBeLessThan(limit + 4 * 2100);
    expect(calls).toBeLessThan(10);
    expect(result.usage).toMatchObject({ tokensIn: 3000 * (counted / 2100), tokensCached: 1000 * (counted / 2100) });
  });

  test('without a budget the same model runs to its own end: the stop above is the budget', async () => {
    const server = await codex.serve(endlessTools());
    const result = await mockActivity().run(runCodexAgent, await codexInput(server.origin));
    expect(result).toMatchObject({ status: 'exited', exitCode: 0, finalMessage: 'done' });
    expect(modelCalls(server.requests)).toHaveLength(MAX_CALLS + 1);
  });

  test("Codex cost is its tokens at the price of its model: the shipped table, or the agent's price:", async () => {
    const twoCalls: Scenario = (req) => {
      if (req.method !== 'POST' || !req.url.startsWith('/v1/responses')) return undefined;
      return req.rawBody.includes('"function_call_output"')
        ? responseStream('r2', [assistantText('m2', 'done')], CALL)
        : responseStream('r1', [execCommand('c1', 'true')], CALL);
    };
    const server = await codex.serve(twoCalls);
    const tokens = { input: 6000, cached: 2000, output: 200 };
    const table = await mockActivity().run(runCodexAgent, await codexInput(server.origin));
    expect(table.usage).toMatchObject({ tokensIn: 6000, tokensCached: 2000, tokensOut: 200 });
    expect(table.usage.costUsd).toBe(codexCostUsd(tokens, CODEX_PRICES['gpt-5-codex']!));
    expect(table.usage.costUsd).toBeCloseTo((4000 * 1.25 + 2000 * 0.125 + 200 * 10) / 1e6, 9);
    expect(table.model).toBe('gpt-5-codex');

    const price = { input: 100, cachedInput: 10, output: 1000 };
    const own = await mockActivity().run(
      runCodexAgent,
      await codexInput(server.origin, { model: 'my-finetune', price }),
    );
    expect(own.usage.costUsd).toBeCloseTo((4000 * 100 + 2000 * 10 + 200 * 1000) / 1e6, 9);
  });

  test('a cost budget stops a run at the limit, priced as it goes', async () => {
    const server = await codex.serve(endlessTools());
    // $1000 per million uncached input: each call costs about $2.
    const price = { input: 1000, cachedInput: 0, output: 0 };
    const input = await codexInput(server.origin, {
      model: 'expensive',
      price,
      budgetLeft: { tokens: null, costUsd: 5, count: 'uncached' },
    });
    const result = await mockActivity().run(runCodexAgent, input);
    expect(result).toMatchObject({ status: 'timeout', failure: { kind: 'budget', code: 'budget_cost' } });
    expect(result.usage.costUsd).toBeGreaterThanOrEqual(5);
    expect(modelCalls(server.requests).length).toBeLessThan(10);
  });
});

describe('Claude metering', () => {
  function endlessBash(): Scenario {
    let calls = 0;
    return (req) => {
      if (req.method !== 'POST' || !req.url.startsWith('/v1/messages')) return undefined;
      calls += 1;
      if (calls > MAX_CALLS)
        return messageStream(`msg_${calls}`, 'claude-sonnet-4-5', [{ type: 'text', text: 'done' }], 'end_turn', {
          input: 10,
          cacheRead: 0,
          cacheWrite: 0,
          output: 1,
        });
      return messageStream(
        `msg_${calls}`,
        'claude-sonnet-4-5',
        [{ type: 'tool_use', id: `toolu_${calls}`, name: 'Bash', input: { command: `sleep 0.2; echo step ${calls}` } }],
        'tool_use',
        { input: 100_000, cacheRead: 0, cacheWrite: 0, output: 10 },
      );
    };
  }

  async function claudeInput(origin: string, budgetLeft: RunAgentInput['budgetLeft']) {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    vi.stubEnv('ANTHROPIC_BASE_URL', origin);
    const root = await testdir();
    return runInput(
      root,
      agentConfig('claude', {
        model: 'claude-sonnet-4-5',
        command: claude.binary(),
        env: ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'],
        options: { allowedTools: ['Bash'] },
      }),
      { budgetLeft },
    );
  }

  test('a cost budget is Claude Code’s own --max-budget-usd: it stops itself and the run says budget_cost', async () => {
    const server = await claude.serve(endlessBash());
    const result = await mockActivity().run(
      runClaudeAgent,
      await claudeInput(server.origin, { tokens: null, costUsd: 1, count: 'uncached' }),
    );
    expect(result).toMatchObject({ exitCode: 1, failure: { kind: 'budget', code: 'budget_cost' } });
    // Sonnet at $3 per million input: about $0.30 a call, so it stopped after a handful.
    expect(result.usage.costUsd).toBeGreaterThanOrEqual(1);
    expect(server.requests.filter((r) => r.url.startsWith('/v1/messages')).length).toBeLessThan(10);
  });

  test('a token budget stops a Claude run mid-way, counted from the usage of each message', async () => {
    const server = await claude.serve(endlessBash());
    const result = await mockActivity().run(
      runClaudeAgent,
      await claudeInput(server.origin, { tokens: 250_000, costUsd: null, count: 'total' }),
    );
    expect(result).toMatchObject({ status: 'timeout', failure: { kind: 'budget', code: 'budget_tokens' } });
    expect(result.usage.tokensIn).toBeGreaterThanOrEqual(250_000);
    expect(server.requests.filter((r) => r.url.startsWith('/v1/messages')).length).toBeLessThan(10);
  });
});

describe('CLI versions', () => {
  async function fakeCli(name: string, versionLine: string): Promise<string> {
    const dir = await testdir();
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\necho "${versionLine}"\n`);
    await chmod(path, 0o755);
    return path;
  }

  test('a codex outside the supported range is refused before it runs, with the install command', async () => {
    const command = await fakeCli('codex', 'codex-cli 0.150.0');
    const root = await testdir();
    const result = await mockActivity().run(runCodexAgent, runInput(root, agentConfig('codex', { command })));
    expect(result).toMatchObject({
      status: 'not_installed',
      cliVersion: '0.150.0',
      failure: {
        kind: 'needs_human',
        code: 'cli_version',
        message: `codex 0.150.0 at ${command} is outside the supported range >=0.169.0 <0.170.0`,
        fix: 'install the supported version: `npm i -g @openai/codex@0.169.0` (or set command: to a codex binary in >=0.169.0 <0.170.0)',
      },
    });
  });

  test('so is a claude newer than its range', async () => {
    const command = await fakeCli('claude', '2.2.0 (Claude Code)');
    const root = await testdir();
    const result = await mockActivity().run(runClaudeAgent, runInput(root, agentConfig('claude', { command })));
    expect(result).toMatchObject({
      status: 'not_installed',
      cliVersion: '2.2.0',
      failure: { kind: 'needs_human', code: 'cli_version' },
    });
    expect(result.failure?.fix).toContain('npm i -g @anthropic-ai/claude-code@2.1.330');
  });
});
