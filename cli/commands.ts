import { DEFAULTS } from '../server/defaults.js';
import { arg, type Declared, defineCommand, defineGroup, opt } from './declare.js';
import { ExitError } from './exit-codes.js';
import { emit } from './output.js';

/**
 * Every `loop-station` command, declared once: arguments, options, help, examples. Implementations
 * load only when their command runs, so `--help` and `--version` never load the Temporal SDK.
 */

const LOCAL = 'Local server and workers:';
const LOOPS = 'Loops:';
const STEER = 'Steer a running loop:';
const SETUP = 'Setup:';

const allowRoot = () =>
  opt.list('--allow-root <dir>', 'folder loop roots may lie in (repeatable; default: the current directory)');
const taskQueue = (what: string) =>
  opt.textOr('--task-queue <name>', what, DEFAULTS.taskQueue, 'LOOP_STATION_TASK_QUEUE');
const loopIdArg = () => arg.required('loop id (with or without the loop- prefix)');
const note = () => opt.text('--note <text>', 'why, recorded with the intervention');
const dashboardPort = () =>
  opt.port(
    '--dashboard-port <n>',
    'port of the dashboard on 127.0.0.1 (default 8234, a free one when busy; 0: any free port)',
  );
const noDashboard = () => opt.negated('--no-dashboard', 'do not serve the dashboard');

const dev = defineCommand({
  name: 'dev',
  summary: 'start a Temporal dev server (Web UI, SQLite state), a loop-station worker and the dashboard',
  group: LOCAL,
  args: {},
  options: {
    port: opt.intOr('--port <n>', 'gRPC port', DEFAULTS.port),
    uiPort: opt.int('--ui-port <n>', 'Web UI port (default: gRPC port + 1000)'),
    headless: opt.flag('--headless', 'no Web UI'),
    db: opt.textOr('--db <file>', 'SQLite state file (its write-ahead log <file>-wal beside it)', DEFAULTS.dbFile),
    taskQueue: opt.textOr('--task-queue <name>', 'task queue of the worker', DEFAULTS.taskQueue),
    allowRoot: allowRoot(),
    maxConcurrentAgents: opt.int('--max-concurrent-agents <n>', 'agent runs at once (default 4)'),
    worker: opt.negated('--no-worker', 'start only the server'),
    dashboardPort: dashboardPort(),
    dashboard: noDashboard(),
  },
  connection: false,
  json: true,
  examples: [
    'loop-station dev',
    'loop-station dev --port 7243 --headless --db /tmp/loops.db',
    '# in a script: start it in the background, then wait until loops can run',
    'loop-station dev > dev.log 2>&1 & loop-station server status --wait 90s',
  ],
  notes: [
    'It prints its addresses and "Ready:" (with --json, one JSON object) only once the search',
    'attributes are registered and the worker polls its task queue. Ctrl-C stops the worker, then the server.',
  ].join('\n'),
  run: async (o, out) => (await import('./commands/dev.js')).devCommand(o, out),
});

const worker = defineCommand({
  name: 'worker',
  probe: true,
  summary: 'run a loop-station worker against any Temporal cluster',
  group: LOCAL,
  args: {},
  options: {
    taskQueue: taskQueue('task queue to serve'),
    allowRoot: allowRoot(),
    maxConcurrentAgents: opt.int(
      '--max-concurrent-agents <n>',
      'agent and evidence runs at once on this worker (default 4)',
    ),
    maxCachedWorkflows: opt.int(
      '--max-cached-workflows <n>',
      'workflows kept in memory between tasks (default 100; others are replayed from history)',
    ),
    identity: opt.text('--identity <id>', 'worker identity shown in the Temporal UI'),
  },
  connection: true,
  json: false,
  examples: [
    'loop-station worker --address temporal.internal:7233 --namespace loops --allow-root /data/loops',
    'loop-station worker --task-queue gpu-a100 --max-concurrent-agents 1',
  ],
  run: async (o) => {
    // The worker is the one command that loads worker code; a dynamic import keeps it out of the client path.
    const { runWorker, WorkerConnectError } = await import('../worker/main.js');
    const { TemporalUnreachableError } = await import('./exit-codes.js');
    try {
      await runWorker(o);
    } catch (error) {
      if (error instanceof WorkerConnectError) {
        throw new TemporalUnreachableError(error.address, error.namespace, error.detail, error.kind);
      }
      throw error;
    }
  },
});

const demo = defineCommand({
  name: 'demo',
  summary: 'the main job: a real denoising loop (12 sessions, scripted agents, no API keys) on a local Temporal',
  group: LOCAL,
  args: {},
  options: {
    sessions: opt.intOr('--sessions <n>', 'session budget', 12),
    dir: opt.text('--dir <dir>', 'folder for the loop (default: .loop-station/demo/<time>)'),
    port: opt.int('--port <n>', 'gRPC port of the dev server (default 7233; a busy port picks a free one)'),
    uiPort: opt.int('--ui-port <n>', 'Web UI port of the dev server (default: gRPC port + 1000)'),
    keepRunning: opt.flag(
      '--keep-running',
      'leave the server, UI, dashboard and worker up to browse the history; Ctrl-C stops them',
    ),
    dashboardPort: dashboardPort(),
    dashboard: noDashboard(),
  },
  connection: false,
  json: true,
  examples: ['loop-station demo', 'loop-station demo --sessions 3 --dir /tmp/demo --keep-running'],
  run: async (o, out) => (await import('./commands/demo.js')).demoCommand(o, out),
});

const ui = defineCommand({
  name: 'ui',
  probe: true,
  summary: 'serve the dashboard: watch and steer loops in the browser',
  group: LOCAL,
  args: {},
  options: {
    port: opt.portOr('--port <n>', 'port to listen on (0: any free port)', 8234),
    host: opt.textOr('--host <host>', 'address to bind; anything but loopback requires a token', '127.0.0.1'),
    token: opt.text(
      '--token <secret>',
      'access token (env LOOP_STATION_UI_TOKEN; generated and printed off loopback when not given)',
    ),
    allowRoot: opt.list(
      '--allow-root <dir>',
      "folder whose loops' files the dashboard may read (repeatable; default: the current directory)",
    ),
  },
  connection: true,
  json: true,
  examples: [
    'loop-station ui',
    '# on a remote box, then open the printed link (it holds the token) through a tunnel or TLS proxy',
    'loop-station ui --host 0.0.0.0 --allow-root /data/loops',
  ],
  notes: 'It prints `dashboard: <url>` and serves until Ctrl-C. See docs/dashboard.md.',
  run: async (o, out) => (await import('./commands/ui.js')).uiCommand(o, out),
});

const serverEnsure = defineCommand({
  name: 'ensure',
  summary: 'print the path of a usable temporal binary, downloading or building one if needed',
  args: {},
  options: {},
  connection: false,
  json: true,
  examples: ['loop-station server ensure', 'LOOP_STATION_TEMPORAL_BIN=/opt/temporal loop-station server ensure --json'],
  notes: [
    'Looks in order: LOOP_STATION_TEMPORAL_BIN, `temporal` on PATH (at least the pinned version), the cache',
    '(~/.cache/loop-station), the Temporal SDK download of the pinned CLI, a `go install` build.',
  ].join('\n'),
  run: async (_o, out) => (await import('./commands/server.js')).serverEnsureCommand(out),
});

const serverStatus = defineCommand({
  name: 'status',
  // With --wait, a server still starting is waited for, not reported gone.
  probe: (input) => input.wait === undefined,
  summary: 'whether loops can run on a server now: search attributes registered, a worker polling the task queue',
  args: {},
  options: {
    taskQueue: taskQueue('task queue that must have a worker'),
    wait: opt.text('--wait <duration>', 'keep checking until ready or this long has passed (e.g. 60s, 2m)'),
  },
  connection: true,
  json: true,
  examples: [
    'loop-station server status',
    'loop-station server status --wait 90s --json',
    'loop-station server status --address temporal.internal:7233 --namespace loops',
  ],
  notes: 'Exit 0 when ready, 1 when not (what is missing is named), 3 when no server answers.',
  run: async (o, out) => (await import('./commands/server.js')).serverStatusCommand(o, out),
});

const doctor = defineCommand({
  name: 'doctor',
  summary: "check that loops can run here and that a spec's agents can work: server, worker, CLIs, logins, GPUs",
  group: SETUP,
  args: {},
  options: {
    spec: opt.text('--spec <file>', 'loop spec whose agents, root, GPUs and evidence command to check'),
    root: opt.text('--root <dir>', 'override the spec root (a relative path is from the current folder)'),
    taskQueue: taskQueue('task queue to check without a spec (with one: its taskQueue)'),
  },
  connection: true,
  json: true,
  examples: [
    'loop-station doctor',
    'loop-station doctor --spec loop.yaml',
    'loop-station doctor --spec loop.yaml --json --address gpu-box:7233',
  ],
  notes: [
    'Checks, each with a one-line fix: Temporal reachable with the loop search attributes; a worker',
    "polling the task queue; with --spec: the Codex sandbox against the loop's GPU needs, the root",
    "within the worker's --allow-root, each agent CLI at a supported version, a login or key per agent,",
    'the models in use, GPUs visible where the executor runs commands, and one run of the evidence',
    "command. The agent checks run on a worker of the loop's task queue (its PATH, logins and GPUs),",
    'or on this machine when none polls it. Exit 0 when nothing failed (warnings allowed), 1 when a',
    'check failed, 2 for a spec that does not validate, 3 when no Temporal server answers.',
  ].join('\n'),
  run: async (o, out) => (await import('./commands/doctor.js')).doctorCommand(o, out),
});

const init = defineCommand({
  name: 'init',
  summary: "write a loop spec from a brief's goal, budget and evidence, with a comment on every block",
  group: LOOPS,
  args: { file: arg.optional('spec file to write: .yaml, .yml or .json', 'loop.yaml') },
  options: {
    name: opt.text('--name <name>', 'loop name (workflow id loop-<name>); required'),
    goal: opt.text('--goal <text>', 'what to improve, in plain words (a whole brief may go here); required'),
    evidence: opt.text('--evidence <command>', 'command printing one JSON object of metrics; required'),
    metric: opt.text('--metric <key>', 'metric to improve: its key in that object; required'),
    direction: opt.choice(
      '--direction <d>',
      'whether a higher (maximize) or a lower (minimize) metric is better',
      ['maximize', 'minimize'],
      'maximize',
    ),
    sessions: opt.intOr('--sessions <n>', 'session budget', 10),
    wallClock: opt.textOr('--wall-clock <duration>', 'time budget of the whole loop, such as 10h or 2d', '10h'),
    perRun: opt.textOr('--per-run <duration>', 'time limit of one agent or evidence run', '45m'),
    tokens: opt.int('--tokens <n>', 'token budget over all agent runs (uncached input plus output); default none'),
    costUsd: opt.number('--cost-usd <x>', 'cost budget over all agent runs, in US dollars; default none'),
    executor: opt.text('--executor <command>', 'shell command of the executor (default: codex)'),
    reviewer: opt.text('--reviewer <command>', 'shell command of a reviewer (default: claude)'),
    root: opt.textOr('--root <dir>', 'loop root, relative to the spec', '.'),
    workspace: opt.list('--workspace <glob>', 'files the executor may change (repeatable, or comma-separated)'),
    protected: opt.list('--protected <glob>', 'files nobody may change (repeatable, or comma-separated)'),
    force: opt.flag('--force', 'overwrite an existing file'),
  },
  connection: false,
  json: true,
  examples: [
    'loop-station init --name my-loop --goal "Raise validation accuracy" --evidence "python eval.py --json" \\\n' +
      '      --metric accuracy --workspace "src/**" --protected eval.py',
    'loop-station init fast.yaml --name speed --goal "Cut p50 latency" --evidence "node bench.mjs" \\\n' +
      '      --metric p50_ms --direction minimize --executor "./my-agent.sh"',
  ],
  run: async (o, out) => (await import('./commands/init.js')).initCommand(o, out),
});

const submit = defineCommand({
  name: 'submit',
  summary: 'validate a loop spec and start the loop',
  group: LOOPS,
  args: { spec: arg.required('loop.yaml or loop.json') },
  options: {
    id: opt.text('--id <id>', 'workflow id (default loop-<name>)'),
    root: opt.text('--root <dir>', 'override the spec root (a relative path is from the current folder)'),
    taskQueue: opt.text('--task-queue <name>', 'task queue of the loop workflow (default: the spec taskQueue)'),
    wait: opt.flag(
      '--wait',
      'follow the loop to its end; exit 0 when it ends, 1 when it fails or ends with stop reason ' +
        'failed or protocol_violation',
    ),
    skipChecks: opt.flag('--skip-checks', "start without checking the agents' CLIs, logins, root and GPUs first"),
  },
  connection: true,
  json: true,
  examples: [
    'loop-station submit loop.yaml',
    'loop-station submit loop.yaml --wait --json',
    'loop-station submit loop.yaml --address control-box:7233 --task-queue loop-station',
  ],
  notes: [
    "Before it starts, submit makes doctor's agent checks on a worker of the spec's task queue (CLIs and",
    'their versions, logins, the root within --allow-root, GPUs through the sandbox) and refuses on a',
    'failure, with the fix; --skip-checks starts anyway. With no worker polling the queue yet it warns',
    'and starts (the loop waits for one). It does not run the evidence command (the baseline does):',
    '`loop-station doctor --spec` makes every check, that one included.',
  ].join('\n'),
  run: async (o, out) => (await import('./commands/submit.js')).submitCommand({ ...o, file: o.spec }, out),
});

const list = defineCommand({
  name: 'list',
  probe: true,
  summary: 'list loops with phase, session, best value and a failing evidence command',
  group: LOOPS,
  args: {},
  options: {
    query: opt.text('--query <visibility query>', 'extra Temporal visibility filter, e.g. LoopPhase="review"'),
    limit: opt.intOr('--limit <n>', 'at most this many', 100),
  },
  connection: true,
  json: true,
  examples: ['loop-station list', 'loop-station list --query \'LoopPhase="review"\' --json'],
  run: async (o, out) => (await import('./commands/list.js')).listCommand(o, out),
});

const status = defineCommand({
  name: 'status',
  probe: true,
  summary: 'status card of a loop: phase, session, best, budget used, pending approvals',
  group: LOOPS,
  args: { id: loopIdArg() },
  options: {},
  connection: true,
  json: true,
  examples: ['loop-station status my-loop', 'loop-station status loop-my-loop --json'],
  run: async (o, out) => (await import('./commands/control.js')).statusCommand(o, out),
});

const watch = defineCommand({
  name: 'watch',
  probe: true,
  summary: 'follow a loop live until it ends',
  group: LOOPS,
  args: { id: loopIdArg() },
  options: {},
  connection: true,
  json: true,
  examples: ['loop-station watch my-loop', 'loop-station watch my-loop --json > result.json'],
  run: async (o, out) => (await import('./commands/watch.js')).watchCommand(o, out),
});

const report = defineCommand({
  name: 'report',
  summary: 'write a self-contained HTML (or Markdown) report of a loop, with its trend chart',
  group: LOOPS,
  args: { target: arg.required('a loop root, its loop_station/ folder, or a loop id') },
  options: {
    out: opt.text('--out <file>', 'output file (default: <root>/loop_station/report.html, report.md with --format md)'),
    format: opt.maybeChoice('--format <format>', 'html or md (default: md when --out ends in .md, else html)', [
      'html',
      'md',
    ]),
  },
  connection: true,
  json: true,
  examples: ['loop-station report my-loop', 'loop-station report ./experiment --format md --out summary.md'],
  run: async (o, out) => (await import('./commands/report.js')).reportCommand(o, out),
});

const fork = defineCommand({
  name: 'fork',
  probe: true,
  summary: 'branch a loop from one of its sessions into a new root and a new loop',
  group: LOOPS,
  args: { id: arg.required('the loop to fork') },
  options: {
    fromSession: opt.requiredInt('--from-session <n>', 'the closed session whose workspace becomes the new baseline'),
    name: opt.text('--name <name>', 'name of the new loop (default <name>-fork-NNN)'),
    root: opt.text('--root <dir>', 'root of the new loop (default <old root>-fork-NNN)'),
    redirect: opt.text('--redirect <note>', 'steer the first session of the new loop'),
    sessions: opt.int('--sessions <n>', 'session budget (default: what the original had left)'),
  },
  connection: true,
  json: true,
  examples: [
    'loop-station fork my-loop --from-session 4',
    'loop-station fork my-loop --from-session 4 --redirect "try a median filter" --sessions 5',
  ],
  run: async (o, out) => (await import('./commands/fork.js')).forkCommand(o, out),
});

const validate = defineCommand({
  name: 'validate',
  summary: 'audit a loop_station/ folder against the file and flag protocol',
  group: LOOPS,
  args: { dir: arg.required('a loop root or its loop_station/ folder') },
  options: { strict: opt.flag('--strict', 'warnings fail too') },
  connection: false,
  json: true,
  examples: ['loop-station validate ./experiment', 'loop-station validate ./experiment/loop_station --strict --json'],
  notes:
    'Exit 0 when clean, 1 when it found errors (or warnings with --strict), 2 when there is no loop_station/ folder.',
  run: async (o, out) => {
    const { validateCommand } = await import('./commands/validate.js');
    const result = await validateCommand({ dir: o.dir, strict: o.strict, json: false });
    if (result.report) emit(out, result.report, result.stdout.trimEnd());
    if (result.exitCode !== 0) throw new ExitError(result.exitCode, result.stderr.trimEnd());
    return result.report;
  },
});

const stop = defineCommand({
  name: 'stop',
  summary: 'stop a loop after the current session (or --now)',
  group: STEER,
  args: { id: loopIdArg() },
  options: {
    now: opt.flag('--now', 'cancel the running agent (its process group is killed) and close the session now'),
    reason: opt.text('--reason <text>', 'why, recorded with the intervention'),
  },
  connection: true,
  json: true,
  examples: ['loop-station stop my-loop --reason "good enough"', 'loop-station stop my-loop --now'],
  run: async (o, out) => (await import('./commands/control.js')).stopCommand(o, out),
});

const redirect = defineCommand({
  name: 'redirect',
  summary: 'steer the next executor session: its prompt and EXECUTOR_BRIEF.md carry the note',
  group: STEER,
  args: { id: loopIdArg(), note: arg.required('what to do instead') },
  options: {},
  connection: true,
  json: true,
  examples: ['loop-station redirect my-loop "stop tuning the learning rate; try data augmentation"'],
  run: async (o, out) => (await import('./commands/control.js')).redirectCommand(o, out),
});

const pause = defineCommand({
  name: 'pause',
  summary: 'no new session starts until resume',
  group: STEER,
  args: { id: loopIdArg() },
  options: { note: note() },
  connection: true,
  json: true,
  examples: ['loop-station pause my-loop --note "GPU maintenance"'],
  run: async (o, out) => (await import('./commands/control.js')).pauseCommand(o, out),
});

const resume = defineCommand({
  name: 'resume',
  summary: 'resume a paused loop',
  group: STEER,
  args: { id: loopIdArg() },
  options: { note: note() },
  connection: true,
  json: true,
  examples: ['loop-station resume my-loop'],
  run: async (o, out) => (await import('./commands/control.js')).resumeCommand(o, out),
});

const approve = defineCommand({
  name: 'approve',
  summary: 'answer a pending decision (ask_user or an askBefore gate) with yes',
  group: STEER,
  args: { id: loopIdArg() },
  options: {
    session: opt.requiredInt('--session <n>', 'the session that waits'),
    decision: opt.text('--decision <class>', 'apply this decision class instead of the proposed one'),
    note: note(),
  },
  connection: true,
  json: true,
  examples: [
    'loop-station approve my-loop --session 7',
    'loop-station approve my-loop --session 7 --decision return_to_best',
  ],
  run: async (o, out) => (await import('./commands/control.js')).approveCommand(o, out),
});

const deny = defineCommand({
  name: 'deny',
  summary: 'answer a pending decision with no',
  group: STEER,
  args: { id: loopIdArg() },
  options: { session: opt.requiredInt('--session <n>', 'the session that waits'), note: note() },
  connection: true,
  json: true,
  examples: ['loop-station deny my-loop --session 7 --note "keep the current best"'],
  run: async (o, out) => (await import('./commands/control.js')).denyCommand(o, out),
});

const extend = defineCommand({
  name: 'extend',
  summary: 'raise a budget (audited in contract.json amendments)',
  group: STEER,
  args: { id: loopIdArg() },
  options: {
    sessions: opt.int('--sessions <n>', 'new session budget'),
    wallClock: opt.text('--wall-clock <duration>', 'new wall-clock budget, e.g. 12h'),
    tokens: opt.int('--tokens <n>', 'new token budget'),
    costUsd: opt.number('--cost-usd <n>', 'new cost budget in USD'),
    note: note(),
  },
  connection: true,
  json: true,
  examples: [
    'loop-station extend my-loop --sessions 20',
    'loop-station extend my-loop --wall-clock 24h --cost-usd 40 --note "promising"',
  ],
  run: async (o, out) => (await import('./commands/control.js')).extendCommand(o, out),
});

const skillInstall = defineCommand({
  name: 'install',
  summary: 'copy the loop-station skill where Codex or Claude Code finds it',
  args: {},
  options: {
    for: opt.requiredChoice('--for <cli>', 'codex or claude', ['codex', 'claude']),
    scope: opt.choice(
      '--scope <scope>',
      'user (all projects) or project (current directory)',
      ['user', 'project'],
      'user',
    ),
    dryRun: opt.flag('--dry-run', 'print where it would go; write nothing'),
    force: opt.flag('--force', 'replace a different loop-station skill already there'),
  },
  connection: false,
  json: true,
  examples: [
    'loop-station skill install --for claude',
    'loop-station skill install --for codex --scope project --dry-run',
  ],
  run: async (o, out) => (await import('./commands/skill.js')).skillInstallCommand(o, out),
});

const completion = defineCommand({
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  group: SETUP,
  args: { shell: arg.required('bash, zsh or fish') },
  options: {},
  connection: false,
  json: false,
  examples: [
    'source <(loop-station completion bash)            # bash, this shell',
    'loop-station completion bash > ~/.local/share/bash-completion/completions/loop-station',
    'loop-station completion zsh > "${fpath[1]}/_loop-station"   # zsh (then restart it)',
    'loop-station completion fish > ~/.config/fish/completions/loop-station.fish',
  ],
  run: async (o, out, command) => {
    const { completionScript, SHELLS } = await import('./completion.js');
    const shell = SHELLS.find((s) => s === o.shell);
    if (!shell) {
      const { UsageError } = await import('./exit-codes.js');
      throw new UsageError(`completion ${o.shell}: unknown shell\n  fix: pass one of ${SHELLS.join(', ')}`);
    }
    let program = command;
    while (program.parent) program = program.parent;
    out.data(completionScript(program, shell));
  },
});

/** The program's commands, in the order `--help` lists them (grouped by their headings). */
export const COMMANDS: readonly Declared[] = [
  dev,
  worker,
  demo,
  ui,
  defineGroup('server', 'the Temporal binary and the readiness of a server', LOCAL, [serverEnsure, serverStatus]),
  init,
  submit,
  list,
  status,
  watch,
  report,
  fork,
  validate,
  stop,
  redirect,
  pause,
  resume,
  approve,
  deny,
  extend,
  doctor,
  defineGroup('skill', 'the loop-station agent skill', SETUP, [skillInstall]),
  completion,
];
