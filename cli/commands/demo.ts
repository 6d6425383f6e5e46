import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { sdk } from '../temporal-sdk.js';
import { DEFAULTS, findFreePorts } from '../../server/dev-server.js';
import { DevServerDbInUseError, DevServerPortInUseError } from '../../server/errors.js';
import { packagePath } from '../../server/package-paths.js';
import { sessionLabel } from '../../protocol/layout.js';
import { historyClass } from '../../protocol/render/status-card.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import type { loopWorkflow } from '../../workflows/loop.js';
import type * as SetupModule from '../../examples/denoise-psnr/setup.mjs';
import { uiLink } from '../connect.js';
import { loopStartOptions } from '../loop-start.js';
import { emit, type Output } from '../output.js';
import { loadLoopSpec } from '../spec-file.js';
import { type DevStack, startDevStack, startStackDashboard } from './dev.js';
import { reportCommand } from './report.js';
import type { ServedDashboard } from './ui.js';
import { failIfFailedEnding, followLoop } from './watch.js';

const EXAMPLE_DIR = packagePath('examples', 'denoise-psnr');

export interface DemoOptions {
  sessions?: number;
  dir?: string | undefined;
  keepRunning?: boolean;
  port?: number | undefined;
  uiPort?: number | undefined;
  /** false: no dashboard. @default true */
  dashboard?: boolean;
  dashboardPort?: number | undefined;
}

export interface DemoResult {
  workflowId: string;
  root: string;
  result: LoopResult;
  report: string;
  ui: string | null;
  /** The dashboard this demo served; null when it started none (--no-dashboard, or another dev's server). */
  dashboard: string | null;
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/**
 * The main job in one command: the Temporal binary, a dev server with its UI and a worker, the
 * denoise-psnr example in a fresh folder, live progress, then a summary table and the report.
 * Each run gets a new folder and loop id, so earlier results stay.
 */
export async function demoCommand(options: DemoOptions, out: Output): Promise<DemoResult> {
  const id = stamp();
  const root = resolve(options.dir ?? join('.loop-station', 'demo', id));
  await mkdir(root, { recursive: true });
  out.log(`demo folder: ${root}`);

  let stack: DevStack | null = null;
  let address: string;
  let uiUrl: string | null;
  try {
    stack = await startDevStack(
      {
        port: options.port ?? DEFAULTS.port,
        ...(options.uiPort !== undefined ? { uiPort: options.uiPort } : {}),
        allowRoot: [process.cwd(), root],
      },
      out,
    );
    address = stack.server.address;
    uiUrl = stack.server.uiUrl;
  } catch (error) {
    if (error instanceof DevServerDbInUseError && error.address) {
      // `loop-station dev` already runs on this folder's state: use it and its worker.
      out.log(`using the running loop-station dev at ${error.address}`);
      address = error.address;
      uiUrl = await runningUiUrl(address, out);
    } else if (error instanceof DevServerPortInUseError) {
      const [port, uiPort] = await findFreePorts(2);
      out.log(`port ${error.port} is busy: starting a separate dev server on ${port} (UI on ${uiPort})`);
      stack = await startDevStack(
        { port: port!, uiPort: uiPort!, db: join(root, 'temporal.db'), allowRoot: [process.cwd(), root] },
        out,
      );
      address = stack.server.address;
      uiUrl = stack.server.uiUrl;
    } else throw error;
  }
  let dashboard: ServedDashboard | null = null;
  try {
    const allowRoot = [process.cwd(), root];
    dashboard = stack
      ? await startStackDashboard(stack, { ...options, allowRoot }, out, { printUrl: !out.json })
      : null;
    const { setupRoot } = (await import(join(EXAMPLE_DIR, 'setup.mjs'))) as typeof SetupModule;
    out.log('generating the image set and the workspace (examples/denoise-psnr/setup.mjs)…');
    setupRoot(root);
    const { config } = await loadLoopSpec(join(EXAMPLE_DIR, 'loop.yaml'), { root });
    if (options.sessions) config.budget.sessions = options.sessions;
    const workflowId = `loop-denoise-psnr-${id}`;
    const { Client, Connection } = sdk();
    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection, namespace: 'default' });
      await client.workflow.start<typeof loopWorkflow>(
        'loopWorkflow',
        loopStartOptions(config, {
          workflowId,
          taskQueue: config.taskQueue,
          summary: 'loop-station demo: denoise-psnr',
        }),
      );
      const ui = uiUrl ? uiLink(address, 'default', workflowId).replace(/^http:\/\/[^/]+/, uiUrl) : null;
      out.log(`started ${workflowId}: ${config.budget.sessions} sessions`);
      if (ui) out.log(`watch it in the Temporal UI: ${ui}`);
      if (dashboard)
        out.log(
          `steer it in the dashboard: ${new URL(`/loops/${encodeURIComponent(workflowId)}`, dashboard.url).href}`,
        );
      const result = await followLoop(client, workflowId, out, { quiet: out.json });
      const report = await reportCommand({ target: root, format: 'html' }, { ...out, json: false }, { quiet: true });
      const summary = [
        renderSummary(result, config.evidence.metric),
        `report: ${relative(process.cwd(), report.path) || report.path}`,
        `files:  ${relative(process.cwd(), root) || root}/loop_station/`,
        ...(ui ? [`UI:     ${ui}`] : []),
      ].join('\n');
      const demo: DemoResult = { workflowId, root, result, report: report.path, ui, dashboard: dashboard?.url ?? null };
      if (options.keepRunning && !stack)
        out.log(
          `--keep-running has no effect: the server at ${address} is not ours (a running loop-station dev); ` +
            'it stays up after the demo anyway',
        );
      if (options.keepRunning && stack) {
        emit(out, demo, summary);
        out.log('--keep-running: the server, UI, dashboard and worker stay up; Ctrl-C stops them');
        await new Promise<void>((resolveWait) => {
          for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolveWait());
        });
        return demo;
      }
      emit(out, demo, summary);
      failIfFailedEnding(result);
      return demo;
    } finally {
      await connection.close();
    }
  } finally {
    await dashboard?.stop();
    await stack?.stop();
  }
}

/**
 * The UI of a dev server this command did not start: where `loop-station dev` puts it (gRPC port +
 * 1000, or LOOP_STATION_UI_URL), if something answers there; null, said plainly, otherwise.
 */
async function runningUiUrl(address: string, out: Output): Promise<string | null> {
  const base = new URL(uiLink(address, 'default', 'x')).origin;
  const answers = await fetch(base, { signal: AbortSignal.timeout(3000) }).then(
    (res) => res.ok,
    () => false,
  );
  if (answers) return base;
  const where = process.env.LOOP_STATION_UI_URL
    ? 'LOOP_STATION_UI_URL'
    : 'gRPC port + 1000, where loop-station dev puts it unless started with --ui-port or --headless';
  out.log(`the UI address of that server is unknown: nothing answers at ${base} (${where})`);
  return null;
}

/** The end-of-run table: session, decision, metric value, best so far. */
export function renderSummary(result: LoopResult, metric: string): string {
  const rows = [
    ['session', 'decision', metric, 'best'],
    ['000', 'baseline', fmt(result.baseline), fmt(result.baseline)],
  ];
  for (const h of result.history)
    rows.push([String(h.session).padStart(3, '0'), historyClass(h), fmt(h.value), fmt(h.best)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const gain =
    result.best && result.baseline !== null
      ? ` (${gainOf(result.best.value - result.baseline)} over the baseline)`
      : '';
  const best = result.best ? `${fmt(result.best.value)} at session ${sessionLabel(result.best.session)}` : 'none';
  return [
    '',
    lines[0],
    lines[0]!.replace(/[^ ]/g, '-'),
    ...lines.slice(1),
    '',
    `ended: ${result.stopReason} after ${result.sessions} sessions; best ${metric} ${best}${gain}`,
  ].join('\n');
}

const gainOf = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(2)}`;
const fmt = (v: number | null): string => (v === null ? '-' : v.toFixed(4).replace(/\.?0+$/, ''));
