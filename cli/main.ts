import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS } from '../server/dev-server.js';
import type { ConnectionFlags } from '../server/connection-options.js';
import { ExitCode, ExitError, TemporalUnreachableError } from './exit-codes.js';
import { createOutput } from './output.js';

/**
 * The `loop-station` command: parses argv, runs one command function, maps what it throws to an
 * exit code. The only place that ends the process.
 */

const int = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return Number(value);
};
const num = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];
const port = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`${name} must be a port number (0 picks a free one)`);
  return Number(value);
};

function withConnection(cmd: Command): Command {
  return cmd
    .option('--address <host:port>', 'Temporal frontend address (env TEMPORAL_ADDRESS)')
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .option('--api-key <key>', 'API key, e.g. for Temporal Cloud (env TEMPORAL_API_KEY)')
    .option('--profile <name>', 'profile of the Temporal config file (env TEMPORAL_PROFILE)')
    .option('--tls', 'connect with TLS')
    .option('--tls-cert-path <file>', 'client certificate for mTLS')
    .option('--tls-key-path <file>', 'client key for mTLS')
    .option('--tls-ca-path <file>', 'server CA certificate')
    .option('--tls-server-name <name>', 'server name override for TLS');
}

type Opts = ConnectionFlags & Record<string, unknown>;
/** Commands return data for tests and callers; commander wants void. */
const act = <A extends unknown[]>(fn: (...args: A) => Promise<unknown>) => async (...args: A): Promise<void> => {
  await fn(...args);
};
const conn = (o: Opts): ConnectionFlags => ({
  address: o.address, namespace: o.namespace, apiKey: o.apiKey, profile: o.profile, tls: o.tls,
  tlsCertPath: o.tlsCertPath, tlsKeyPath: o.tlsKeyPath, tlsCaPath: o.tlsCaPath, tlsServerName: o.tlsServerName,
});

export function buildProgram(): Command {
  const program = new Command('loop-station')
    .description('Durable improvement loops for coding agents, on Temporal')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('dev')
    .description('start a Temporal dev server (Web UI, SQLite state), a loop-station worker and the dashboard')
    .option('--port <n>', 'gRPC port', int('--port'), DEFAULTS.port)
    .option('--ui-port <n>', 'Web UI port (default: gRPC port + 1000)', int('--ui-port'))
    .option('--headless', 'no Web UI')
    .option('--db <file>', 'SQLite state file', DEFAULTS.dbFile)
    .option('--task-queue <name>', 'task queue of the worker', DEFAULTS.taskQueue)
    .option('--allow-root <dir>', 'folder loop roots may lie in (repeatable; default: the current directory)', collect)
    .option('--max-concurrent-agents <n>', 'agent runs at once', int('--max-concurrent-agents'))
    .option('--no-worker', 'start only the server')
    .option('--dashboard-port <n>', 'port of the dashboard on 127.0.0.1 (default 8234, a free one when busy; 0: any free port)', port('--dashboard-port'))
    .option('--no-dashboard', 'do not serve the dashboard')
    .action(act(async (o) => (await import('./commands/dev.js')).devCommand(o, createOutput())));

  withConnection(
    program
      .command('worker')
      .description('run a loop-station worker against any Temporal cluster')
      .option('--task-queue <name>', 'task queue to serve (env LOOP_STATION_TASK_QUEUE)', process.env.LOOP_STATION_TASK_QUEUE ?? DEFAULTS.taskQueue)
      .option('--allow-root <dir>', 'folder loop roots may lie in (repeatable; default: the current directory)', collect)
      .option('--max-concurrent-agents <n>', 'agent and evidence runs at once on this worker', int('--max-concurrent-agents'))
      .option('--identity <id>', 'worker identity shown in the Temporal UI'),
  ).action(act(async (o: Opts) => {
    // The worker is the one command that loads worker code; a dynamic import keeps it out of the client path.
    const { runWorker, WorkerConnectError } = await import('../worker/main.js');
    try {
      await runWorker({ ...conn(o), taskQueue: o.taskQueue as string, allowRoot: o.allowRoot as string[] | undefined, maxConcurrentAgents: o.maxConcurrentAgents as number | undefined, identity: o.identity as string | undefined });
    } catch (error) {
      if (error instanceof WorkerConnectError) throw new TemporalUnreachableError(error.address, error.namespace, error.detail);
      throw error;
    }
  }));

  const server = program.command('server').description('the Temporal binary');
  server
    .command('ensure')
    .description('print the path of a usable temporal binary, building or fetching one if needed')
    .option('--json', 'JSON output')
    .action(act(async (o) => (await import('./commands/server.js')).serverEnsureCommand(o, createOutput(o))));

  program
    .command('init')
    .description('write a loop spec from a Goal / Budget / Evidence brief')
    .argument('[file]', 'spec file to write', 'loop.yaml')
    .requiredOption('--name <name>', 'loop name (workflow id loop-<name>)')
    .requiredOption('--goal <text>', 'what to improve')
    .requiredOption('--evidence <command>', 'command printing one JSON object of metrics')
    .requiredOption('--metric <key>', 'metric to improve')
    .addOption(new Option('--direction <d>', 'maximize or minimize').choices(['maximize', 'minimize']).default('maximize'))
    .option('--sessions <n>', 'session budget', int('--sessions'), 10)
    .option('--executor <command>', 'shell command of the executor (default: codex)')
    .option('--reviewer <command>', 'shell command of a reviewer (default: claude)')
    .option('--root <dir>', 'loop root, relative to the spec', '.')
    .option('--workspace <glob>', 'files the executor may change (repeatable)', collect)
    .option('--protected <glob>', 'files nobody may change (repeatable)', collect)
    .option('--force', 'overwrite an existing file')
    .action(act(async (file: string, o) => (await import('./commands/init.js')).initCommand({ ...o, file }, createOutput())));

  withConnection(
    program
      .command('submit')
      .description('validate a loop spec and start the loop')
      .argument('<spec>', 'loop.yaml or loop.json')
      .option('--id <id>', 'workflow id (default loop-<name>)')
      .option('--root <dir>', 'override the spec root')
      .option('--task-queue <name>', 'task queue of the loop workflow (default: the spec taskQueue)')
      .option('--wait', 'follow the loop to its end; exit 0 on a normal finish, 1 on failure')
      .option('--json', 'JSON output'),
  ).action(act(async (file: string, o: Opts) =>
    (await import('./commands/submit.js')).submitCommand({ ...conn(o), file, id: o.id as string | undefined, root: o.root as string | undefined, taskQueue: o.taskQueue as string | undefined, wait: Boolean(o.wait), json: Boolean(o.json) }, createOutput({ json: Boolean(o.json) })),
  ));

  withConnection(
    program.command('list').description('list loops').option('--query <visibility query>', 'extra Temporal visibility filter, e.g. LoopPhase="review"').option('--limit <n>', 'at most this many', int('--limit'), 100).option('--json', 'JSON output'),
  ).action(act(async (o: Opts) => (await import('./commands/list.js')).listCommand({ ...conn(o), query: o.query as string | undefined, limit: o.limit as number, json: Boolean(o.json) }, createOutput({ json: Boolean(o.json) }))));

  withConnection(program.command('status').description('status card of a loop').argument('<id>', 'loop id (with or without loop-)').option('--json', 'JSON output')).action(act(async (id: string, o: Opts) => (await import('./commands/control.js')).statusCommand({ ...conn(o), id, json: Boolean(o.json) }, createOutput({ json: Boolean(o.json) })),
  ));
  withConnection(program.command('watch').description('follow a loop live until it ends').argument('<id>').option('--json', 'print the result as JSON at the end')).action(act(async (id: string, o: Opts) => (await import('./commands/watch.js')).watchCommand({ ...conn(o), id, json: Boolean(o.json) }, createOutput({ json: Boolean(o.json) })),
  ));
  withConnection(program.command('stop').description('stop a loop after the current session (or --now)').argument('<id>').option('--now', 'cancel the running agent and close the session now').option('--reason <text>', 'why').option('--json', 'JSON output')).action(act(async (id: string, o: Opts) => (await import('./commands/control.js')).stopCommand({ ...conn(o), id, now: Boolean(o.now), reason: o.reason as string | undefined }, createOutput({ json: Boolean(o.json) })),
  ));
  withConnection(program.command('redirect').description('steer the next executor sessions').argument('<id>').argument('<note>', 'what to do instead').option('--json', 'JSON output')).action(act(async (id: string, note: string, o: Opts) => (await import('./commands/control.js')).redirectCommand({ ...conn(o), id, note }, createOutput({ json: Boolean(o.json) })),
  ));
  withConnection(program.command('pause').description('no new session starts until resume').argument('<id>').option('--note <text>').option('--json', 'JSON output')).action(act(async (id: string, o: Opts) => (await import('./commands/control.js')).pauseCommand({ ...conn(o), id, note: o.note as string | undefined }, createOutput({ json: Boolean(o.json) })),
  ));
  withConnection(program.command('resume').description('resume a paused loop').argument('<id>').option('--note <text>').option('--json', 'JSON output')).action(act(async (id: string, o: Opts) => (await import('./commands/control.js')).resumeCommand({ ...conn(o), id, note: o.note as string | undefined }, createOutput({ json: Boolean(o.json) })),
  ));
  withConnection(program.command('approve').description('answer a pending decision with yes').argument('<id>').requiredOption('--session <n>', 'the session that waits', int('--session')).option('--decision <class>', 'apply this class instead').option('--note <text>').option('--json', 'JSON output')).action(act(async (id: string, o: Opts) => (await import('./commands/control.js')).approveCommand({ ...conn(o), id, session: o.session as number, decision: o.decision as string | undefined, note: o.note as string | undefined }, createOutput({ json: Boolean(o.json) })),
  ));
  withConnection(program.command('deny').description('answer a pending decision with no').argument('<id>').requiredOption('--session <n>', 'the session that waits', int('--session')).option('--note <text>').option('--json', 'JSON output')).action(act(async (id: string, o: Opts) => (await import('./commands/control.js')).denyCommand({ ...conn(o), id, session: o.session as number, note: o.note as string | undefined }, createOutput({ json: Boolean(o.json) })),
  ));
  withConnection(
    program
      .command('extend')
      .description('raise a budget (audited in contract.json amendments)')
      .argument('<id>')
      .option('--sessions <n>', 'new session budget', int('--sessions'))
      .option('--wall-clock <duration>', 'new wall-clock budget, e.g. 12h')
      .option('--tokens <n>', 'new token budget', int('--tokens'))
      .option('--cost-usd <n>', 'new cost budget in USD', num('--cost-usd'))
      .option('--note <text>')
      .option('--json', 'JSON output'),
  ).action(act(async (id: string, o: Opts) =>
    (await import('./commands/control.js')).extendCommand({ ...conn(o), id, sessions: o.sessions as number | undefined, wallClock: o.wallClock as string | undefined, tokens: o.tokens as number | undefined, costUsd: o.costUsd as number | undefined, note: o.note as string | undefined }, createOutput({ json: Boolean(o.json) })),
  ));

  withConnection(
    program
      .command('report')
      .description('write a self-contained HTML (or Markdown) report of a loop, with its trend chart')
      .argument('<target>', 'a loop root, its loop_station/ folder, or a loop id')
      .option('--out <file>', 'output file (default: <root>/loop_station/report.html)')
      .addOption(new Option('--format <format>', 'html or md').choices(['html', 'md']).default('html'))
      .option('--json', 'print the result as JSON'),
  ).action(act(async (target: string, o: Opts) => {
    const { reportCommand } = await import('./commands/report.js');
    const out = createOutput({ json: Boolean(o.json) });
    const result = await reportCommand({ ...conn(o), target, out: o.out as string | undefined, format: o.format as 'html' | 'md', json: Boolean(o.json) }, out);
    if (o.json) out.json_(result);
  }));

  program
    .command('demo')
    .description('the main job: a real denoising loop (12 sessions, scripted agents, no API keys) on a local Temporal')
    .option('--sessions <n>', 'session budget', int('--sessions'), 12)
    .option('--dir <dir>', 'folder for the loop (default: .loop-station/demo/<time>)')
    .option('--port <n>', 'gRPC port of the dev server (default 7233; a busy port picks a free one)', int('--port'))
    .option('--ui-port <n>', 'Web UI port of the dev server (default: gRPC port + 1000)', int('--ui-port'))
    .option('--keep-running', 'leave the server, UI, dashboard and worker up to browse the history; Ctrl-C stops them')
    .option('--dashboard-port <n>', 'port of the dashboard on 127.0.0.1 (default 8234, a free one when busy; 0: any free port)', port('--dashboard-port'))
    .option('--no-dashboard', 'do not serve the dashboard')
    .action(act(async (o) => (await import('./commands/demo.js')).demoCommand({ sessions: o.sessions, dir: o.dir, keepRunning: Boolean(o.keepRunning), port: o.port, uiPort: o.uiPort, dashboard: o.dashboard, dashboardPort: o.dashboardPort }, createOutput())));

  withConnection(
    program
      .command('ui')
      .description('serve the dashboard: watch and steer loops in the browser')
      .option('--port <n>', 'port to listen on (0: any free port)', port('--port'), 8234)
      .option('--host <host>', 'address to bind; anything but loopback requires a token', '127.0.0.1')
      .option('--token <secret>', 'access token (env LOOP_STATION_UI_TOKEN; generated and printed off loopback when not given)')
      .option('--allow-root <dir>', 'folder whose loops\' files the dashboard may read (repeatable; default: the current directory)', collect),
  ).action(act(async (o: Opts) =>
    (await import('./commands/ui.js')).uiCommand({ ...conn(o), port: o.port as number, host: o.host as string, token: o.token as string | undefined, allowRoot: o.allowRoot as string[] | undefined }, createOutput()),
  ));

  const skill = program.command('skill').description('the loop-station agent skill');
  skill
    .command('install')
    .description('copy the loop-station skill where Codex or Claude Code finds it')
    .addOption(new Option('--for <cli>', 'codex or claude').choices(['codex', 'claude']).makeOptionMandatory())
    .addOption(new Option('--scope <scope>', 'user (all projects) or project (current directory)').choices(['user', 'project']).default('user'))
    .option('--dry-run', 'print where it would go; write nothing')
    .option('--force', 'replace a different loop-station skill already there')
    .option('--json', 'JSON output')
    .action(act(async (o) => (await import('./commands/skill.js')).skillInstallCommand({ for: o.for, scope: o.scope, dryRun: Boolean(o.dryRun), force: Boolean(o.force) }, createOutput({ json: Boolean(o.json) }))));

  withConnection(
    program
      .command('fork')
      .description('branch a loop from one of its sessions into a new root and a new loop')
      .argument('<id>', 'the loop to fork')
      .requiredOption('--from-session <n>', 'the closed session whose workspace becomes the new baseline', int('--from-session'))
      .option('--name <name>', 'name of the new loop (default <name>-fork-NNN)')
      .option('--root <dir>', 'root of the new loop (default <old root>-fork-NNN)')
      .option('--redirect <note>', 'steer the first session of the new loop')
      .option('--sessions <n>', 'session budget (default: what the original had left)', int('--sessions'))
      .option('--json', 'JSON output'),
  ).action(act(async (id: string, o: Opts) =>
    (await import('./commands/fork.js')).forkCommand({ ...conn(o), id, fromSession: o.fromSession as number, name: o.name as string | undefined, root: o.root as string | undefined, redirect: o.redirect as string | undefined, sessions: o.sessions as number | undefined, json: Boolean(o.json) }, createOutput({ json: Boolean(o.json) })),
  ));

  program
    .command('validate')
    .description('audit a loop_station/ folder against the protocol')
    .argument('<dir>', 'a loop root or its loop_station/ folder')
    .option('--strict', 'warnings fail too')
    .option('--json', 'JSON output')
    .action(act(async (dir: string, o) => {
      const { validateCommand } = await import('./commands/validate.js');
      const result = await validateCommand({ dir, strict: Boolean(o.strict), json: Boolean(o.json) });
      process.stdout.write(result.stdout);
      if (result.exitCode !== 0) throw new ExitError(result.exitCode as ExitCode, result.stderr.trimEnd());
    }));

  return program;
}

function exitCodeOf(error: unknown): { code: ExitCode; message: string } {
  if (error instanceof CommanderError) {
    const quiet = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    return { code: quiet ? ExitCode.ok : ExitCode.usage, message: '' };
  }
  if (error instanceof ExitError) return { code: error.code, message: error.message };
  const message = serverErrorText(error);
  // A lost connection mid-command: gRPC UNAVAILABLE (14).
  if (error && typeof error === 'object' && 'code' in error && (error as { code: unknown }).code === 14) {
    return { code: ExitCode.unreachable, message: `${message}\n  fix: is the Temporal server running? \`loop-station dev\` starts one` };
  }
  return { code: ExitCode.failed, message: process.env.LOOP_STATION_DEBUG && error instanceof Error ? (error.stack ?? message) : message };
}

/**
 * The SDK's ServiceError says only "Failed to start Workflow"; the server's reason is in its cause.
 * A namespace without the loop search attributes is the usual one on a cluster of one's own.
 */
function serverErrorText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 4; e = e.cause) {
    if (!parts.some((p) => p.includes(e instanceof Error ? e.message : ''))) parts.push(e.message);
  }
  const text = parts.join(': ') || String(error);
  const missing = /no mapping defined for search attribute (\w+)/.exec(text);
  if (!missing) return text;
  return `${text}\n  fix: register the loop search attributes once per namespace (\`loop-station dev\` does it for its own server):\n`
    + '       temporal operator search-attribute create --namespace <namespace> --name LoopName --type Keyword --name LoopPhase --type Keyword --name LoopSession --type Int --name LoopBest --type Double';
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    const { code, message } = exitCodeOf(error);
    if (message) process.stderr.write(`loop-station: ${message}\n`);
    process.exitCode = code;
  }
  // Lingering handles (gRPC channels, timers of the SDK) must not keep a finished command alive;
  // exit only once stdout has drained, so piped data is never cut.
  process.stdout.write('', () => process.exit(process.exitCode ?? 0));
}

await main(process.argv);
