import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll } from 'vitest';
import { fakeProviderConfig } from '../fixtures/fake-models/openai-responses.js';
import { startFakeModelServer, type FakeModelServer, type Scenario } from '../fixtures/fake-models/server.js';
import { ensureAgentCli } from './agent-clis.js';
import { useAgentHome } from './agent-home.js';
import { startTestWorker, type TestWorker } from './worker.js';

/** The variable a Codex agent's key is read from in these tests (the spec lets it through). */
export const CODEX_KEY = 'FAKE_CODEX_KEY';

export interface RealAgentClis {
  worker: TestWorker;
  codexBin: string;
  claudeBin: string;
  /** A fake model server answering with `scenario`, closed after the file's tests. */
  serve(scenario: Scenario): Promise<FakeModelServer>;
  /** A Codex agent's spec on the pinned CLI, talking to `server` with the fake key. */
  codexAgent(server: FakeModelServer): {
    agent: 'codex';
    command: string;
    model: string;
    env: string[];
    config: Record<string, string>;
  };
}

/**
 * For engine tests with the real pinned Codex and Claude CLIs: installs them (cached), gives them
 * fake keys and an empty HOME (the agents' shells read no profile of the machine's user), and
 * starts a worker allowed under the temp folder. Call at the top of a test file; read the fields
 * inside tests.
 */
export function useRealAgentClis(): RealAgentClis {
  const servers: FakeModelServer[] = [];
  useAgentHome();
  const state = {
    serve: async (scenario: Scenario) => {
      const server = await startFakeModelServer(scenario);
      servers.push(server);
      return server;
    },
    codexAgent: (server: FakeModelServer) => ({
      agent: 'codex' as const,
      command: state.codexBin,
      model: 'fake-model',
      env: [CODEX_KEY],
      config: fakeProviderConfig(server.origin, CODEX_KEY),
    }),
  } as RealAgentClis;
  beforeAll(async () => {
    [state.codexBin, state.claudeBin] = (await Promise.all([ensureAgentCli('codex'), ensureAgentCli('claude')])).map(
      (b) => b.path,
    ) as [string, string];
    // Agents read keys from the worker's environment only; the spec names which ones pass.
    process.env[CODEX_KEY] = 'sk-fake-codex';
    process.env.ANTHROPIC_API_KEY = 'sk-ant-fake';
    state.worker = await startTestWorker({ allowRoots: [await realpath(tmpdir())] });
  }, 600_000);
  afterAll(async () => {
    await state.worker?.stop();
    for (const s of servers) await s.close();
  });
  return state;
}
