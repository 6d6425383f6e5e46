import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENT_KIND_SCHEMAS } from '../protocol/schemas/agents/kinds.js';
import { evidenceFailure, toEvidenceResult } from '../protocol/evidence-output.js';
import { codexPrice, modelFor } from '../protocol/models.js';
import type { SetupCheck, SetupProbeResult } from '../protocol/schemas/doctor.js';
import type { AgentConfig, LoopConfig } from '../protocol/schemas/loop-config.js';
import { codexSandbox, launchedAgents, wantsGpu } from '../protocol/setup-checks.js';
import { AGENT_CLIS, checkCliVersion, installHint } from './agents/cli-versions.js';
import { agentEnvironment, allowedEnvironment } from './agents/environment.js';
import { resolveExecutable } from './agents/executable.js';
import { launch, tailOf } from './agents/launch.js';
import { resolveClaudeLogin, resolveCodexLogin } from './agents/logins.js';
import { redactStrings, secretRedactor } from './agents/redact.js';
import { assertRootAllowed } from './paths.js';

/**
 * The setup probe (`loop-station doctor`, and `submit` before it starts a loop): what a loop needs
 * from the machine its agents run on, checked there (docs/agent-setup.md#doctor): the loop root
 * within the worker's allowed roots, each agent CLI present at a supported version, credentials
 * for each, the models in use, GPUs visible where the executor runs its commands (through Codex's
 * own sandbox when it has one), and one run of the evidence command. It writes nothing under the
 * loop root (logins are resolved in a temporary folder); the evidence command itself may.
 */

export interface SetupProbeInput {
  config: LoopConfig;
  /** Run the evidence command once (doctor: yes; submit: no, the baseline runs it). */
  evidence: boolean;
}

const ok = (id: string, message: string): SetupCheck => ({ id, status: 'ok', message, fix: null });
const fail = (id: string, message: string, fix: string): SetupCheck => ({ id, status: 'fail', message, fix });

function rootCheck(root: string, allowRoots: readonly string[] | null): SetupCheck {
  if (allowRoots !== null) {
    try {
      assertRootAllowed(root, allowRoots);
    } catch {
      return fail(
        'root',
        `loop root ${root} is outside the worker's allowed roots (${allowRoots.join(', ') || 'none'})`,
        `start the worker with --allow-root ${root} (or a folder above it), or move the root under ${allowRoots[0] ?? 'an allowed folder'}`,
      );
    }
  }
  if (!existsSync(root)) {
    return {
      id: 'root',
      status: 'warn',
      message: `loop root ${root} does not exist yet on this machine: the loop creates it, empty`,
      fix: 'put the project there first: the evidence command and the protected patterns need its files',
    };
  }
  if (allowRoots === null) {
    return {
      id: 'root',
      status: 'skip',
      message: `loop root ${root} exists here; the worker's allowed roots are unknown (no worker answered)`,
      fix: 'start the worker with --allow-root set to a folder that holds the root (`loop-station dev` allows the folder it starts in)',
    };
  }
  return ok('root', `loop root ${root} is within the worker's allowed roots (${allowRoots.join(', ')})`);
}

type CliKind = keyof typeof AGENT_CLIS;

/** CLI, credentials and model of one Codex or Claude agent. */
async function agentChecks(config: LoopConfig, agent: AgentConfig, scratch: string): Promise<SetupCheck[]> {
  const kind = agent.kind as CliKind;
  const token = agent.token;
  const cwd = existsSync(config.root) ? config.root : scratch;
  const env = allowedEnvironment([...config.env, ...agent.env]);
  const command = agent.command ?? AGENT_CLIS[kind].bin;
  const binary = resolveExecutable(command, env.PATH, cwd);
  const checks: SetupCheck[] = [];
  const model = modelFor(kind, agent.model);
  if (binary === undefined) {
    checks.push(
      fail(
        `cli ${token}`,
        `${command} not found${command.includes('/') ? '' : ' on PATH'}`,
        `install it: \`${installHint(kind)}\`, or set command: on the agent`,
      ),
    );
    return checks;
  }
  const version = await checkCliVersion(kind, binary, env);
  if (!version.ok) {
    checks.push(fail(`cli ${token}`, version.problem, version.fix));
    return checks;
  }
  checks.push(
    version.tested
      ? ok(`cli ${token}`, `${AGENT_CLIS[kind].bin} ${version.version} at ${binary}`)
      : {
          id: `cli ${token}`,
          status: 'warn',
          message: `${AGENT_CLIS[kind].bin} ${version.version} at ${binary} is in the supported range ${AGENT_CLIS[kind].supported} but not the tested ${AGENT_CLIS[kind].version}`,
          fix: `\`${installHint(kind)}\` installs the tested version`,
        },
  );
  const options = agent.options as Record<string, unknown>;
  const login =
    kind === 'codex'
      ? await resolveCodexLogin({
          binary,
          config: (options.config as Record<string, string> | undefined) ?? {},
          env,
          worker: process.env,
          runHome: join(scratch, `${token}.codex-home`),
          cwd,
        })
      : await resolveClaudeLogin({
          binary,
          env,
          worker: process.env,
          runDir: join(scratch, `${token}.claude`),
          cwd,
          bare: options.bare === true,
        });
  checks.push(
    login.problem === null
      ? ok(`login ${token}`, `${login.login === 'subscription' ? 'subscription login' : 'API key'}: ${login.source}`)
      : fail(`login ${token}`, login.problem.message, login.problem.fix),
  );
  if (kind === 'codex') {
    const price = codexPrice(model!, options.price as never);
    checks.push(
      price !== null
        ? ok(
            `model ${token}`,
            `${model} at $${price.input} / $${price.cachedInput} cached / $${price.output} per million tokens`,
          )
        : {
            id: `model ${token}`,
            status: config.budget.costUsd !== null ? 'warn' : 'ok',
            message: `${model} has no price: its runs count $0 against budget.costUsd`,
            fix:
              config.budget.costUsd !== null
                ? 'set price: { input, cachedInput, output } (USD per million tokens) on the agent'
                : null,
          },
    );
  } else checks.push(ok(`model ${token}`, `${model} (Claude Code reports each run's cost)`));
  return checks;
}

/** Lines naming the GPUs a shell sees: `nvidia-smi -L`, else the NVIDIA device files. */
const GPU_PROBE = 'nvidia-smi -L 2>/dev/null || ls -d /dev/nvidia[0-9]* 2>/dev/null';

async function gpuLines(file: string, args: string[], env: Record<string, string>, cwd: string): Promise<string[]> {
  const ran = await execa(file, args, { env, extendEnv: false, cwd, stdin: 'ignore', reject: false, timeout: 60_000 });
  return String(ran.stdout)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^GPU \d+:|^\/dev\/nvidia\d+$/.test(l));
}

/** The GPUs the executor's commands see: through `codex sandbox` with the executor's sandbox, else directly. */
async function gpuCheck(config: LoopConfig, scratch: string): Promise<SetupCheck> {
  const agent = config.executor;
  const id = `gpu ${agent.token}`;
  const env = allowedEnvironment([...config.env, ...agent.env]);
  const host = await gpuLines('/bin/sh', ['-c', GPU_PROBE], env, config.root);
  const sandbox = codexSandbox(agent);
  if (agent.kind !== 'codex' || sandbox === 'danger-full-access') {
    return host.length > 0
      ? ok(id, `GPUs visible to the executor: ${host.join('; ')}`)
      : fail(
          id,
          'no GPU visible on this worker (nvidia-smi -L lists none, no /dev/nvidia*)',
          'run the worker on a GPU machine and route the loop to it with taskQueue:, or pass the GPU variables with env: [preset:gpu]',
        );
  }
  const binary = resolveExecutable(agent.command ?? 'codex', env.PATH, config.root);
  if (binary === undefined) return { id, status: 'skip', message: 'codex is not installed here', fix: null };
  const profile = { 'read-only': ':read-only', 'workspace-write': ':workspace' }[sandbox] ?? ':workspace';
  const codexHome = join(scratch, 'gpu.codex-home');
  await mkdir(codexHome, { recursive: true });
  const inside = await gpuLines(
    binary,
    ['sandbox', '-P', profile, '-C', config.root, '--', '/bin/sh', '-c', GPU_PROBE],
    { ...env, CODEX_HOME: codexHome },
    config.root,
  );
  if (inside.length > 0) return ok(id, `GPUs visible inside Codex's ${sandbox} sandbox: ${inside.join('; ')}`);
  const fix =
    'set sandbox: danger-full-access on the executor (and confine the worker itself: a container or VM), or run the GPU job in the evidence command, which no sandbox wraps';
  return host.length > 0
    ? fail(id, `this worker's GPUs (${host.join('; ')}) are hidden inside Codex's ${sandbox} sandbox`, fix)
    : fail(
        id,
        `no GPU visible on this worker, nor inside Codex's ${sandbox} sandbox`,
        'run the worker on a GPU machine and route the loop to it with taskQueue:',
      );
}

/** One run of the evidence command in the root, its logs in `scratch`: does it print the metric? */
async function evidenceCheck(config: LoopConfig, scratch: string): Promise<SetupCheck> {
  const evidenceDir = join(scratch, 'evidence');
  await mkdir(evidenceDir, { recursive: true });
  const stdoutFile = join(scratch, 'evidence.stdout.log');
  const stderrFile = join(scratch, 'evidence.stderr.log');
  const started = Date.now();
  const launched = await launch({
    command: config.evidence.command,
    cwd: config.root,
    env: agentEnvironment(config.env, {
      role: 'SUPERVISOR',
      agent: 'LOOP_STATION',
      session: 'doctor',
      root: config.root,
      sessionDir: scratch,
      promptFile: '',
      output: join(scratch, 'metrics.json'),
      evidenceDir,
    }),
    stdoutFile,
    stderrFile,
    timeoutMs: config.evidence.timeoutMs,
  });
  const result = toEvidenceResult({
    command: config.evidence.command,
    metric: config.evidence.metric,
    protect: config.evidence.protect,
    exitCode: launched.exitCode,
    stdout: await readFile(stdoutFile, 'utf8').catch(() => ''),
    failure: launched.status === 'exited' ? null : `evidence command ${launched.status.replace('_', ' ')}`,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  // The same judgement as the loop's baseline check: a value, and every protection measured.
  const failure = evidenceFailure(result);
  if (failure === null)
    return ok(
      'evidence',
      `\`${config.evidence.command}\` printed ${config.evidence.metric} = ${result.value} (${seconds} s)`,
    );
  const stderr = tailOf(stderrFile, 400).trim().split('\n').at(-1);
  return fail(
    'evidence',
    `\`${config.evidence.command}\`: ${failure}${stderr ? ` (stderr: ${stderr})` : ''}`,
    `run it by hand in ${config.root}: it must print one JSON object with "${config.evidence.metric}" on stdout`,
  );
}

/** Runs the probe on this machine; `allowRoots` null when the worker's are unknown (no worker answered). */
export async function probeSetup(
  input: SetupProbeInput,
  allowRoots: readonly string[] | null,
): Promise<SetupProbeResult> {
  const { config } = input;
  const scratch = await mkdtemp(join(tmpdir(), 'loop-station-doctor-'));
  try {
    const checks: SetupCheck[] = [];
    const root = rootCheck(config.root, allowRoots);
    checks.push(root);
    const agents = launchedAgents(config);
    for (const { agent } of agents)
      if (agent.kind === 'codex' || agent.kind === 'claude')
        checks.push(...(await agentChecks(config, agent, scratch)));
    const rootUsable = root.status !== 'fail' && existsSync(config.root);
    if (wantsGpu(config)) {
      checks.push(
        rootUsable
          ? await gpuCheck(config, scratch)
          : {
              id: `gpu ${config.executor.token}`,
              status: 'skip',
              message: 'not checked: the loop root is not usable here',
              fix: null,
            },
      );
    }
    if (input.evidence) {
      checks.push(
        rootUsable
          ? await evidenceCheck(config, scratch)
          : { id: 'evidence', status: 'skip', message: 'not run: the loop root is not usable here', fix: null },
      );
    }
    const models = agents.map(({ agent }) => ({
      agent: agent.token,
      kind: agent.kind,
      model: AGENT_KIND_SCHEMAS[agent.kind].launched ? modelFor(agent.kind, agent.model) : null,
    }));
    // The result goes into workflow history: what the evidence command or a CLI printed is redacted.
    const redact = secretRedactor([...config.env, ...agents.flatMap(({ agent }) => agent.env)]);
    return redactStrings({ host: hostname(), checks, models }, redact);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
