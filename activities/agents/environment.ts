import { expandEnv } from '../../protocol/env-presets.js';

/**
 * The environment every agent process gets (docs/loop-spec.md#agents): a small base, the names the spec
 * allows (names, prefixes, presets: protocol/env-presets.ts), and the LOOP_STATION_* contract. Values
 * come from the worker's own environment, so API keys never travel through workflow input, history or flags.
 */

const BASE_NAMES = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_ALL',
  'TERM',
  'TMPDIR',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  'NODE_OPTIONS',
];

export interface AgentContract {
  role: 'EXECUTOR' | 'SUPERVISOR' | 'REVIEWER';
  agent: string;
  session: string;
  root: string;
  sessionDir: string;
  promptFile: string;
  output: string;
  evidenceDir?: string;
}

/**
 * The base names and those the spec's `env:` entries allow, from the worker's environment: all a
 * command the engine runs may see.
 */
export function allowedEnvironment(
  allowed: readonly string[],
  source: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASE_NAMES, ...expandEnv(allowed, Object.keys(source))]) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  // Times in agent output are compared with flag times, which are UTC.
  env.TZ = 'UTC';
  return env;
}

export function agentEnvironment(
  allowed: readonly string[],
  contract: AgentContract,
  source: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env = allowedEnvironment(allowed, source);
  env.LOOP_STATION_ROLE = contract.role;
  env.LOOP_STATION_AGENT = contract.agent;
  env.LOOP_STATION_SESSION = contract.session;
  env.LOOP_STATION_ROOT = contract.root;
  env.LOOP_STATION_SESSION_DIR = contract.sessionDir;
  env.LOOP_STATION_PROMPT_FILE = contract.promptFile;
  env.LOOP_STATION_OUTPUT = contract.output;
  if (contract.evidenceDir) env.LOOP_STATION_EVIDENCE_DIR = contract.evidenceDir;
  return env;
}
