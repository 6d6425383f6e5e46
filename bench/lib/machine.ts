import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { runCommand } from '../../server/temporal-cli.js';
import type { Machine } from './result.js';

const require = createRequire(import.meta.url);

/** The machine and versions a result was measured on. */
export async function describeMachine(temporalBinary: string): Promise<Machine> {
  const version = await runCommand(temporalBinary, ['--version']);
  const sdk = (require('@temporalio/worker/package.json') as { version: string }).version;
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    ramGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    temporalCli: version.stdout.trim().replace(/^temporal version /, '') || 'unknown',
    temporalSdk: sdk,
    loadAvgAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}
