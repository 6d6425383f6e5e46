import { ensureAgentCli } from '../test/helpers/agent-clis.js';

/**
 * `npx tsx scripts/install-agent-clis.ts`: installs (or finds) the pinned Codex CLI and Claude Code
 * in the loop-station cache, the same way the adapter tests do, and prints where they are.
 */
for (const name of ['codex', 'claude'] as const) {
  const cli = await ensureAgentCli(name);
  process.stdout.write(`${name} ${cli.version} ${cli.path} (${cli.source}, ${(cli.durationMs / 1000).toFixed(1)}s)\n`);
}
