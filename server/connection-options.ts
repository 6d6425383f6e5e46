import { readFileSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';
import type * as EnvConfigModule from '@temporalio/envconfig';
import { parseAddress } from './address.js';

// Required, not imported: see cli/temporal-sdk.ts (an ES-module import of a CommonJS package costs each command's start).
const { loadClientConfig, loadClientConnectConfig } = createRequire(import.meta.url)(
  '@temporalio/envconfig',
) as typeof EnvConfigModule;

/**
 * Connection settings shared by the CLI and the worker: the standard TEMPORAL_* environment and
 * profiles (through @temporalio/envconfig, as the Temporal CLI reads them), then our flags on top.
 */
export interface ConnectionFlags {
  address?: string | undefined;
  namespace?: string | undefined;
  apiKey?: string | undefined;
  profile?: string | undefined;
  tls?: boolean | undefined;
  tlsCertPath?: string | undefined;
  tlsKeyPath?: string | undefined;
  tlsCaPath?: string | undefined;
  tlsServerName?: string | undefined;
}

export interface ConnectionSettings {
  address: string;
  /** Where the address came from (`--address`, `TEMPORAL_ADDRESS`, a profile, the default), for errors. */
  addressSource: string;
  host: string;
  port: number;
  namespace: string;
  apiKey?: string;
  tls?:
    | boolean
    | { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
  metadata?: Record<string, string>;
}

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

/**
 * A connection option (flag, TEMPORAL_* variable or config file) that cannot work: names the
 * option, the value and the fix. A usage error: the command line or the environment must change.
 */
export class ConnectionOptionError extends Error {
  override readonly name = 'ConnectionOptionError';
  constructor(
    readonly option: string,
    readonly value: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${option} ${value}: ${problem}\n  fix: ${fix}`);
  }
}

/** The config file envconfig reads: TEMPORAL_CONFIG_FILE, else the user config folder's temporalio/temporal.toml. */
export function temporalConfigFile(env: NodeJS.ProcessEnv): string {
  if (env.TEMPORAL_CONFIG_FILE) return env.TEMPORAL_CONFIG_FILE;
  const os = platform();
  const base =
    os === 'win32'
      ? (env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'))
      : os === 'darwin'
        ? join(env.HOME ?? homedir(), 'Library', 'Application Support')
        : env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME)
          ? env.XDG_CONFIG_HOME
          : join(env.HOME ?? homedir(), '.config');
  return join(base, 'temporalio', 'temporal.toml');
}

const fsProblem = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES') return 'cannot be read (permission denied)';
  return `cannot be read (${code ?? String(error)})`;
};

function readPem(option: string, path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConnectionOptionError(option, path, fsProblem(error), `give the path of ${what} (a PEM file)`);
  }
}

/** The TEMPORAL_TLS_*_PATH variables envconfig reads, checked first so their error names them. */
const TLS_PATH_VARIABLES = {
  TEMPORAL_TLS_CLIENT_CERT_PATH: 'the client certificate',
  TEMPORAL_TLS_CLIENT_KEY_PATH: 'the client key',
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'the CA certificate that signed the server certificate',
} as const;

function loadProfile(flags: ConnectionFlags, env: NodeJS.ProcessEnv): ReturnType<typeof loadClientConnectConfig> {
  for (const [name, what] of Object.entries(TLS_PATH_VARIABLES)) {
    const path = env[name];
    if (path) readPem(name, path, what);
  }
  // An empty variable counts as unset, as in a shell's `TEMPORAL_ADDRESS= loop-station …`.
  const overrideEnvVars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  );
  const file = temporalConfigFile(env);
  try {
    return loadClientConnectConfig({ profile: flags.profile, overrideEnvVars });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const missing = /^Profile '(.*)' not found/.exec(message);
    if (missing) {
      const option = flags.profile ? '--profile' : 'TEMPORAL_PROFILE';
      const names = profileNames(overrideEnvVars);
      const has =
        names === undefined
          ? `${file} does not exist`
          : names.length
            ? `${file} has ${names.join(', ')}`
            : `${file} has no profiles`;
      const fix = flags.profile
        ? 'pass one of its profiles'
        : 'set TEMPORAL_PROFILE to one of its profiles, or unset it';
      throw new ConnectionOptionError(
        option,
        missing[1]!,
        `no such profile (${has})`,
        `${fix}, or add [profile.${missing[1]}] to ${file}`,
      );
    }
    throw new ConnectionOptionError(
      'Temporal config file',
      file,
      message.split('\n')[0]!,
      'correct the file, or point TEMPORAL_CONFIG_FILE at another one',
    );
  }
}

/** The profiles of the config file, or undefined when there is no file. */
function profileNames(env: Record<string, string>): string[] | undefined {
  try {
    readFileSync(temporalConfigFile(env));
  } catch {
    return undefined;
  }
  try {
    return Object.keys(loadClientConfig({ overrideEnvVars: env }).profiles).sort();
  } catch {
    return [];
  }
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const loaded = loadProfile(flags, env);
  const base = loaded.connectionOptions;
  const address = flags.address ?? base.address ?? DEFAULT_ADDRESS;
  const addressSource = flags.address
    ? '--address'
    : env.TEMPORAL_ADDRESS
      ? 'TEMPORAL_ADDRESS'
      : base.address
        ? `address of profile ${flags.profile ?? env.TEMPORAL_PROFILE ?? 'default'} in ${temporalConfigFile(env)}`
        : 'the default address';
  const parsed = parseAddress(address);
  if ('problem' in parsed) {
    throw new ConnectionOptionError(
      addressSource,
      address,
      parsed.problem,
      'give host:port, such as 127.0.0.1:7233 or my-namespace.a1b2c.tmprl.cloud:7233',
    );
  }
  const settings: ConnectionSettings = {
    address,
    addressSource,
    host: parsed.host,
    port: parsed.port,
    namespace: flags.namespace ?? loaded.namespace ?? DEFAULT_NAMESPACE,
  };
  const apiKey = flags.apiKey ?? (typeof base.apiKey === 'string' ? base.apiKey : undefined);
  if (apiKey) settings.apiKey = apiKey;
  if (base.metadata) settings.metadata = base.metadata as Record<string, string>;
  const wantsTls = flags.tls || flags.tlsCertPath || flags.tlsKeyPath || flags.tlsCaPath || flags.tlsServerName;
  if (wantsTls) {
    if (flags.tlsCertPath && !flags.tlsKeyPath) {
      throw new ConnectionOptionError(
        '--tls-cert-path',
        flags.tlsCertPath,
        'needs --tls-key-path too',
        'mTLS takes the client certificate and its key: pass both, or neither',
      );
    }
    if (flags.tlsKeyPath && !flags.tlsCertPath) {
      throw new ConnectionOptionError(
        '--tls-key-path',
        flags.tlsKeyPath,
        'needs --tls-cert-path too',
        'mTLS takes the client certificate and its key: pass both, or neither',
      );
    }
    settings.tls = {
      ...(flags.tlsServerName ? { serverNameOverride: flags.tlsServerName } : {}),
      ...(flags.tlsCaPath
        ? {
            serverRootCACertificate: readPem(
              '--tls-ca-path',
              flags.tlsCaPath,
              'the CA certificate that signed the server certificate',
            ),
          }
        : {}),
      ...(flags.tlsCertPath && flags.tlsKeyPath
        ? {
            clientCertPair: {
              crt: readPem('--tls-cert-path', flags.tlsCertPath, 'the client certificate'),
              key: readPem('--tls-key-path', flags.tlsKeyPath, 'the client key'),
            },
          }
        : {}),
    };
  } else if (base.tls !== undefined && base.tls !== null) {
    settings.tls = base.tls as ConnectionSettings['tls'];
  } else if (apiKey) {
    // An API key means Temporal Cloud or a TLS endpoint, as the Temporal CLI assumes.
    settings.tls = true;
  }
  return settings;
}
