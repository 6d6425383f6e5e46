import { readFileSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';

/**
 * Connection settings shared by the CLI and the worker: the standard TEMPORAL_* environment and
 * profiles (through @temporalio/envconfig, as the Temporal CLI reads them), then our flags on top.
 */
export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  apiKey?: string;
  profile?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
}

export interface ConnectionSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: boolean | { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
  metadata?: Record<string, string>;
}

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const overrideEnvVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const loaded = loadClientConnectConfig({ profile: flags.profile, overrideEnvVars });
  const base = loaded.connectionOptions;
  const settings: ConnectionSettings = {
    address: flags.address ?? base.address ?? DEFAULT_ADDRESS,
    namespace: flags.namespace ?? loaded.namespace ?? DEFAULT_NAMESPACE,
  };
  const apiKey = flags.apiKey ?? (typeof base.apiKey === 'string' ? base.apiKey : undefined);
  if (apiKey) settings.apiKey = apiKey;
  if (base.metadata) settings.metadata = base.metadata as Record<string, string>;
  const wantsTls = flags.tls || flags.tlsCertPath || flags.tlsKeyPath || flags.tlsCaPath || flags.tlsServerName;
  if (wantsTls) {
    if (Boolean(flags.tlsCertPath) !== Boolean(flags.tlsKeyPath)) {
      throw new Error('--tls-cert-path and --tls-key-path go together: give both (mTLS) or neither');
    }
    settings.tls = {
      ...(flags.tlsServerName ? { serverNameOverride: flags.tlsServerName } : {}),
      ...(flags.tlsCaPath ? { serverRootCACertificate: readFileSync(flags.tlsCaPath) } : {}),
      ...(flags.tlsCertPath && flags.tlsKeyPath ? { clientCertPair: { crt: readFileSync(flags.tlsCertPath), key: readFileSync(flags.tlsKeyPath) } } : {}),
    };
  } else if (base.tls !== undefined && base.tls !== null) {
    settings.tls = base.tls as ConnectionSettings['tls'];
  } else if (apiKey) {
    // An API key means Temporal Cloud or a TLS endpoint, as the Temporal CLI assumes.
    settings.tls = true;
  }
  return settings;
}
