import { resolve } from 'node:path';
import type { ConnectionFlags } from '../../server/connection-options.js';
import { resolveConnection } from '../../server/connection-options.js';
import { type Dashboard, DEFAULT_DASHBOARD_PORT, startDashboard } from '../../ui/server.js';
import { connectLoopSource } from '../../ui/temporal-source.js';
import { uiLink } from '../connect.js';
import { ExitCode, ExitError, UsageError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';

/** `loop-station ui`: the dashboard on its own; `dev` and `demo` start it through serveDashboard too. */

export interface DashboardFlags extends ConnectionFlags {
  /** 0 picks a free port. @default 8234 */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  /** Required off loopback; generated and printed when not given. @default env LOOP_STATION_UI_TOKEN */
  token?: string;
  /** Folders whose loops' files the dashboard may read. @default the current directory */
  allowRoot?: string[];
  /** The Temporal Web UI to link to. @default LOOP_STATION_UI_URL, else gRPC port + 1000 */
  temporalUi?: string | null;
}

export interface ServedDashboard extends Dashboard {
  /** Closes the server and its Temporal connection. */
  stop(): Promise<void>;
}

const isBusy = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE';

/**
 * Connects to Temporal as `loop-station-ui@<host>` and serves the dashboard, printing
 * `dashboard: <url>` on stdout (unless the caller prints it). The default port, when busy, gives way to
 * a free one (said on
 * stderr); a port asked for by name does not.
 */
export async function serveDashboard(
  flags: DashboardFlags,
  out: Output,
  options: { printUrl?: boolean } = {},
): Promise<ServedDashboard> {
  const host = flags.host ?? '127.0.0.1';
  const token = flags.token ?? (process.env.LOOP_STATION_UI_TOKEN || undefined);
  if (token !== undefined && !/^[\x21-\x7e]{16,}$/.test(token)) {
    throw new UsageError(
      '--token: must be at least 16 printable characters without spaces\n' +
        '  fix: leave --token out and one is generated, or pass a longer secret',
    );
  }
  const settings = resolveConnection(flags);
  const temporalUi =
    flags.temporalUi !== undefined
      ? flags.temporalUi
      : new URL(uiLink(settings.address, settings.namespace, 'x')).origin;
  const source = await connectLoopSource(flags, { temporalUi });
  const allowRoots = (flags.allowRoot?.length ? flags.allowRoot : [process.cwd()]).map((r) => resolve(r));
  const start = (port: number) =>
    startDashboard({ source, allowRoots, host, port, ...(token !== undefined ? { token } : {}) });
  let dashboard: Dashboard;
  try {
    try {
      dashboard = await start(flags.port ?? DEFAULT_DASHBOARD_PORT);
    } catch (error) {
      if (!isBusy(error) || flags.port !== undefined) throw error;
      dashboard = await start(0);
      out.log(`port ${DEFAULT_DASHBOARD_PORT} is busy: the dashboard took port ${dashboard.port}`);
    }
  } catch (error) {
    await source.close();
    if (isBusy(error))
      throw new ExitError(
        ExitCode.failed,
        `dashboard: port ${flags.port} on ${host} is in use\n` +
          '  fix: pass another --port (0 picks a free one), or stop what listens there',
      );
    throw error;
  }
  // `dev` prints the line itself, with its other addresses (one JSON object under --json).
  if (options.printUrl !== false) emit(out, { dashboard: dashboard.url }, (d) => `dashboard: ${d.dashboard}`);
  if (dashboard.token)
    out.log(
      'the dashboard answers off this machine: the link holds its token, and whoever has it can steer your loops; ' +
        'plain HTTP, so put it behind TLS or an SSH tunnel on an untrusted network',
    );
  out.log(`dashboard reads loop files under ${allowRoots.join(', ')}`);
  return {
    ...dashboard,
    stop: async () => {
      await dashboard.close();
      await source.close();
    },
  };
}

/** Serves until Ctrl-C or SIGTERM. */
export async function uiCommand(flags: DashboardFlags, out: Output): Promise<void> {
  const dashboard = await serveDashboard(flags, out);
  out.log('Ctrl-C stops the dashboard');
  const signal = await new Promise<string>((resolveSignal) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolveSignal(sig));
  });
  out.log(`stopping the dashboard (${signal})`);
  await dashboard.stop();
}
