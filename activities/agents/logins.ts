import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * Which credentials an agent CLI uses (docs/agent-setup.md#logins), decided before it starts: an
 * API key the spec lets through wins; otherwise the worker user's own subscription login (`codex
 * login`, `claude` then /login) is used without any spec line. Each run still keeps its own state
 * folder where it can, so runs do not share history or configuration:
 *
 * - Codex: the run's CODEX_HOME is its own folder, holding a symlink to the user's `auth.json`
 *   (and `auth.lock`). Codex rewrites auth.json in place when it refreshes a token, through the
 *   link, so the user's login and every run stay on one token chain: a copy would fork it, and
 *   OpenAI refresh tokens are single-use (the other copies then fail with refresh_token_reused).
 *   A login kept in the OS keyring has no file to link: the run then uses the user's CODEX_HOME.
 * - Claude Code writes its credentials by rename (a link would be replaced by a private copy, and
 *   the chain forked), and on macOS keeps them in the Keychain under a name derived from
 *   CLAUDE_CONFIG_DIR; so a run on the user's login uses the user's config folder as it is (the
 *   worker's CLAUDE_CONFIG_DIR if set, else ~/.claude). With a key or CLAUDE_CODE_OAUTH_TOKEN (from
 *   `claude setup-token`) each run has a folder of its own.
 */

export type LoginKind = 'api_key' | 'subscription' | 'none';

export interface LoginProblem {
  message: string;
  fix: string;
}

export interface ResolvedLogin {
  login: LoginKind;
  /** Where it came from, for people: `CODEX_API_KEY`, `ChatGPT login in /home/u/.codex`, … */
  source: string;
  /** The CLI's state folder for this run (CODEX_HOME, CLAUDE_CONFIG_DIR), or null to leave the variable unset. */
  stateDir: string | null;
  /** Set when there are no usable credentials: the run must not start. */
  problem: LoginProblem | null;
}

const unquote = (value: string | undefined): string | undefined => value?.trim().replace(/^(["'])(.*)\1$/, '$2');

/**
 * How Codex authenticates to its model provider: the built-in OpenAI provider takes CODEX_API_KEY or
 * the user's login; a custom provider its `env_key` variable, the user's login when it says
 * `requires_openai_auth`, or nothing at all (a local server).
 */
export function codexKeyVariable(config: Readonly<Record<string, string>>): {
  /** The variable an API key is read from, or null when the provider takes none. */
  variable: string | null;
  provider: string | null;
  /** Whether the user's OpenAI login can authenticate it. */
  usesLogin: boolean;
} {
  const provider = unquote(config.model_provider);
  if (!provider || provider === 'openai') return { variable: 'CODEX_API_KEY', provider: null, usesLogin: true };
  const envKey = unquote(config[`model_providers.${provider}.env_key`]);
  const usesLogin = unquote(config[`model_providers.${provider}.requires_openai_auth`]) === 'true';
  return { variable: envKey ?? (usesLogin ? 'CODEX_API_KEY' : null), provider, usesLogin };
}

/** The worker user's Codex folder: the worker's own CODEX_HOME (allowed or not), else ~/.codex. */
export function userCodexHome(worker: NodeJS.ProcessEnv): string | null {
  if (worker.CODEX_HOME) return worker.CODEX_HOME;
  return worker.HOME ? join(worker.HOME, '.codex') : null;
}

type AuthFileKind = 'subscription' | 'api_key' | null;

/** What a Codex auth.json holds: ChatGPT tokens, an API key stored by `codex login --with-api-key`, or nothing usable. */
export function codexAuthFileKind(path: string): AuthFileKind {
  try {
    const auth = JSON.parse(readFileSync(path, 'utf8')) as { tokens?: unknown; OPENAI_API_KEY?: unknown };
    if (auth.tokens && typeof auth.tokens === 'object') return 'subscription';
    if (typeof auth.OPENAI_API_KEY === 'string' && auth.OPENAI_API_KEY !== '') return 'api_key';
    return null;
  } catch {
    return null;
  }
}

/** Replaces `link` (a file or an older link) by a symlink to `target`. */
function linkTo(target: string, link: string): void {
  try {
    lstatSync(link);
    rmSync(link, { force: true });
  } catch {
    // nothing there yet
  }
  symlinkSync(target, link);
}

async function codexLoginStatus(binary: string, env: Record<string, string>, codexHome: string, cwd: string) {
  const status = await execa(binary, ['login', 'status'], {
    env: { ...env, CODEX_HOME: codexHome },
    extendEnv: false,
    cwd,
    stdin: 'ignore',
    reject: false,
    timeout: 30_000,
  });
  const text = `${String(status.stdout)}\n${String(status.stderr)}`;
  if (status.exitCode !== 0) return null;
  return /API key/i.test(text) ? ('api_key' as const) : ('subscription' as const);
}

export const CODEX_LOGIN_FIX =
  "log in once as the worker's user with `codex login` (`codex login --device-auth` without a browser), or set CODEX_API_KEY in the worker's environment and list it under env";

/**
 * Codex's credentials and CODEX_HOME for one run. `runHome` is the run's own folder; `env` the
 * run's environment (what the spec allows); `worker` the worker's whole environment.
 */
export async function resolveCodexLogin(o: {
  binary: string;
  config: Readonly<Record<string, string>>;
  env: Record<string, string>;
  worker: NodeJS.ProcessEnv;
  runHome: string;
  cwd: string;
}): Promise<ResolvedLogin> {
  const { variable, provider, usesLogin } = codexKeyVariable(o.config);
  // CODEX_HOME in the spec's env: the worker's own folder, as the user set it up.
  const own = o.env.CODEX_HOME ? o.env.CODEX_HOME : null;
  const home = own ?? o.runHome;
  mkdirSync(home, { recursive: true });
  if (variable !== null && o.env[variable])
    return { login: 'api_key', source: variable, stateDir: home, problem: null };
  // A provider that takes no credentials (a local model server).
  if (variable === null && !usesLogin)
    return { login: 'none', source: `model provider ${provider} (no credentials)`, stateDir: home, problem: null };
  if (!usesLogin) {
    return {
      login: 'none',
      source: 'none',
      stateDir: home,
      problem: {
        message: `${variable} is not set for the agent: model provider ${provider} reads its API key from it`,
        fix: `set ${variable} in the worker's environment and allow it in the spec (env: [${variable}])`,
      },
    };
  }
  if (own !== null) {
    const kind = await codexLoginStatus(o.binary, o.env, own, o.cwd);
    if (kind !== null) return { login: kind, source: `login in CODEX_HOME=${own}`, stateDir: own, problem: null };
    return {
      login: 'none',
      source: 'none',
      stateDir: own,
      problem: {
        message: `no Codex login in CODEX_HOME=${own} and ${variable} is not set for the agent`,
        fix: CODEX_LOGIN_FIX,
      },
    };
  }
  const user = userCodexHome(o.worker);
  const authFile = user === null ? null : join(user, 'auth.json');
  const fileKind = authFile !== null && existsSync(authFile) ? codexAuthFileKind(authFile) : null;
  if (user !== null && authFile !== null && fileKind !== null) {
    linkTo(authFile, join(home, 'auth.json'));
    linkTo(join(user, 'auth.lock'), join(home, 'auth.lock'));
    return {
      login: fileKind,
      source: `${fileKind === 'subscription' ? 'ChatGPT login' : 'stored API key'} in ${user}`,
      stateDir: home,
      problem: null,
    };
  }
  // A login in the OS keyring (cli_auth_credentials_store) has no file: use the user's folder itself.
  if (user !== null && existsSync(user)) {
    const kind = await codexLoginStatus(o.binary, o.env, user, o.cwd);
    if (kind !== null) return { login: kind, source: `login in ${user}`, stateDir: user, problem: null };
  }
  return {
    login: 'none',
    source: 'none',
    stateDir: home,
    problem: {
      message: `no Codex credentials: ${variable ?? 'no API key'} is not set for the agent and the worker's user is not logged in (${user ?? 'no HOME'})`,
      fix: CODEX_LOGIN_FIX,
    },
  };
}

/** `claude auth status --json`: whether a login or key is found, and of which kind. */
export async function claudeAuthStatus(
  binary: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ loggedIn: boolean; authMethod: string | null; configDirectory: string | null }> {
  const status = await execa(binary, ['auth', 'status', '--json'], {
    env,
    extendEnv: false,
    cwd,
    stdin: 'ignore',
    reject: false,
    timeout: 30_000,
  });
  try {
    const parsed = JSON.parse(String(status.stdout)) as {
      loggedIn?: unknown;
      authMethod?: unknown;
      configDirectory?: unknown;
    };
    return {
      loggedIn: parsed.loggedIn === true,
      authMethod: typeof parsed.authMethod === 'string' ? parsed.authMethod : null,
      configDirectory: typeof parsed.configDirectory === 'string' ? parsed.configDirectory : null,
    };
  } catch {
    return { loggedIn: false, authMethod: null, configDirectory: null };
  }
}

export const CLAUDE_KEY_VARIABLES = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'] as const;

export const CLAUDE_LOGIN_FIX =
  "log in once as the worker's user (run `claude`, then /login), or set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`) in the worker's environment and list it under env";

/**
 * Claude Code's credentials and CLAUDE_CONFIG_DIR for one run (see the module comment). `bare`
 * runs read only ANTHROPIC_API_KEY: Claude Code's --bare mode never reads a login or token.
 */
export async function resolveClaudeLogin(o: {
  binary: string;
  env: Record<string, string>;
  worker: NodeJS.ProcessEnv;
  runDir: string;
  cwd: string;
  bare: boolean;
}): Promise<ResolvedLogin> {
  const key = CLAUDE_KEY_VARIABLES.find((name) => o.env[name]);
  const own = o.env.CLAUDE_CONFIG_DIR ? o.env.CLAUDE_CONFIG_DIR : null;
  const runDir = () => {
    mkdirSync(o.runDir, { recursive: true });
    return o.runDir;
  };
  if (key !== undefined) return { login: 'api_key', source: key, stateDir: own ?? runDir(), problem: null };
  if (o.bare) {
    return {
      login: 'none',
      source: 'none',
      stateDir: own ?? runDir(),
      problem: {
        message: 'bare: true makes Claude Code read only ANTHROPIC_API_KEY, which is not set for the agent',
        fix: "set ANTHROPIC_API_KEY in the worker's environment and list it under env, or drop bare: to use a login",
      },
    };
  }
  if (o.env.CLAUDE_CODE_OAUTH_TOKEN)
    return { login: 'subscription', source: 'CLAUDE_CODE_OAUTH_TOKEN', stateDir: own ?? runDir(), problem: null };
  // The config folder the user's login lives in: the spec's own, else the worker user's as it is.
  const userDir = own ?? (o.worker.CLAUDE_CONFIG_DIR || null);
  const statusEnv = { ...o.env, ...(userDir !== null ? { CLAUDE_CONFIG_DIR: userDir } : {}) };
  const status = await claudeAuthStatus(o.binary, statusEnv, o.cwd);
  if (status.loggedIn) {
    const where = status.configDirectory ?? userDir ?? '~/.claude';
    return {
      login: status.authMethod === 'api_key' ? 'api_key' : 'subscription',
      source: `${status.authMethod === 'claude.ai' ? 'Claude login' : (status.authMethod ?? 'login')} in ${where}`,
      stateDir: userDir,
      problem: null,
    };
  }
  return {
    login: 'none',
    source: 'none',
    stateDir: own ?? runDir(),
    problem: {
      message: `Claude Code is not logged in: no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or CLAUDE_CODE_OAUTH_TOKEN for the agent and no login in ${status.configDirectory ?? userDir ?? '~/.claude'}`,
      fix: CLAUDE_LOGIN_FIX,
    },
  };
}
