import { hostname, userInfo } from 'node:os';
import { type Client, type Connection, sdk } from './temporal-sdk.js';
import type { ConnectionFlags } from '../server/connection-options.js';
import { TemporalUnreachableError } from './exit-codes.js';
import { reachable } from './reach.js';
import { probeAddress } from '../server/address.js';

export interface Connected {
  client: Client;
  connection: Connection;
  address: string;
  /** The address's host, e.g. to tell a server on this machine. */
  host: string;
  namespace: string;
  /**
   * A follow-up command as the user can run it next: `loop-station <words>` with the connection flags
   * they typed (`--address`, `--namespace`…), so a fix line reaches the same server.
   */
  cli(words: string): string;
  close(): Promise<void>;
}

/** A word of a shell command, quoted when the shell would split or expand it. */
export const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * The connection flags given on the command line, as a follow-up command repeats them (`--api-key`
 * as a placeholder: a key is not printed). What came from TEMPORAL_* variables or a profile's
 * default stays in the user's environment and needs no flag.
 */
export function connectionArgs(flags: ConnectionFlags): string {
  const words: string[] = [];
  const text = (flag: string, value: string | undefined) => {
    if (value !== undefined && value !== '') words.push(flag, shellWord(value));
  };
  text('--address', flags.address);
  text('--namespace', flags.namespace);
  text('--profile', flags.profile);
  if (flags.apiKey) words.push('--api-key', 'KEY');
  if (flags.tls) words.push('--tls');
  text('--tls-cert-path', flags.tlsCertPath);
  text('--tls-key-path', flags.tlsKeyPath);
  text('--tls-ca-path', flags.tlsCaPath);
  text('--tls-server-name', flags.tlsServerName);
  return words.join(' ');
}

/** `loop-station <words>` followed by `args` (connectionArgs), when there are any. */
export const cliCommand = (words: string, args: string): string => `loop-station ${words}${args ? ` ${args}` : ''}`;

/**
 * Who runs this CLI, as `user@host`: the identity a loop's history (and so its ledger) records for
 * its messages. Inside an agent's run (the engine gives it LOOP_STATION_ROLE and _AGENT) it says so,
 * `agent CODEX (executor, session 004) as user@host`, so what an agent sent is not taken for a person's.
 */
export function cliIdentity(env: NodeJS.ProcessEnv = process.env): string {
  let user = env.USER ?? env.USERNAME ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container's numeric uid): the environment's name stands.
  }
  const run = agentRun(env);
  return `${run ? `agent ${run} as ` : ''}${user}@${hostname()}`;
}

/** The agent run this process is part of (`CODEX (executor, session 004)`), from the engine's variables. */
export function agentRun(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { LOOP_STATION_ROLE: role, LOOP_STATION_AGENT: agent, LOOP_STATION_SESSION: session } = env;
  if (!role || !agent) return undefined;
  return `${agent} (${role.toLowerCase()}${session ? `, session ${session}` : ''})`;
}

/**
 * Connects as a client; an unreachable server fails naming the address, what went wrong and the fix.
 * `identity` names this client in the history of what it sends (default: cliIdentity()).
 * `stopRetrying`: once aborted, a failed call is not retried (the client's default retries it
 * with backoff for about 20 s), so a long-lived client that closes can settle its calls first.
 */
export async function connect(
  flags: ConnectionFlags,
  options: { identity?: string; stopRetrying?: AbortSignal } = {},
): Promise<Connected> {
  const settings = await reachable(flags);
  const { stopRetrying } = options;
  const retry = stopRetrying && sdk().defaultGrpcRetryOptions();
  let connection: Connection;
  try {
    connection = await sdk().Connection.connect({
      ...(retry
        ? {
            interceptors: [
              sdk().makeGrpcRetryInterceptor({
                delayFunction: retry.delayFunction,
                retryableDecider: (attempt, status) => !stopRetrying.aborted && retry.retryableDecider(attempt, status),
              }),
            ],
          }
        : {}),
      address: settings.address,
      ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
      ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      ...(settings.metadata ? { metadata: settings.metadata } : {}),
      // The TCP probe above has already failed fast on a closed port or an unknown host; a server that
      // accepted the connection but answers slowly (a busy dev server on 2 cores: over 5 s seen in CI)
      // is given time, rather than being reported unreachable.
      connectTimeout: '30s',
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new TemporalUnreachableError(settings.address, settings.namespace, detail, 'other');
  }
  return {
    client: new (sdk().Client)({
      connection,
      namespace: settings.namespace,
      identity: options.identity ?? cliIdentity(),
    }),
    connection,
    address: settings.address,
    host: settings.host,
    namespace: settings.namespace,
    cli: (words) => cliCommand(words, connectionArgs(flags)),
    close: () => connection.close(),
  };
}

/** `loop-x` and `x` name the same loop: ids may be given without the prefix. */
export const loopId = (id: string): string => (id.startsWith('loop-') ? id : `loop-${id}`);

/** The Web UI link of a workflow: LOOP_STATION_UI_URL, else the dev server's convention (gRPC port + 1000). */
export function uiLink(address: string, namespace: string, workflowId: string): string {
  const base =
    process.env.LOOP_STATION_UI_URL ??
    (() => {
      const m = /^(.*):(\d+)$/.exec(address);
      return m ? `http://${m[1]}:${Number(m[2]) + 1000}` : `http://${address}`;
    })();
  const ns = encodeURIComponent(namespace);
  return `${base.replace(/\/$/, '')}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * The `UI: …` line for text output: the link, unless the server is on this machine and nothing
 * answers at the UI's port (`dev --headless`), where a link would lead nowhere.
 */
export async function uiLine(conn: Pick<Connected, 'host'>, url: string): Promise<string> {
  if (process.env.LOOP_STATION_UI_URL || !isLocalAddress(conn.host)) return `UI: ${url}`;
  const m = /^https?:\/\/([^/]+):(\d+)\//.exec(url);
  const open = m ? (await probeAddress(m[1]!, Number(m[2]), 500)).ok : true;
  return open
    ? `UI: ${url}`
    : `UI: none (no Temporal Web UI answers on port ${m![2]}; LOOP_STATION_UI_URL names one elsewhere)`;
}

/** True for an address on this machine, where `loop-station dev` may still be starting. */
export const isLocalAddress = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);
