import { readFileSync } from 'node:fs';
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

/** The machine's CPU time so far, all cores, and the part of it stolen by the hypervisor (ticks of /proc/stat); null where there is none. */
export function cpuClock(): { total: number; steal: number } | null {
  try {
    const fields = /^cpu +(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is inside user and nice)
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return null;
  }
}

/** `machine` with the share of CPU time stolen since `since` (cpuClock()), when there is a clock. */
export function withSteal(machine: Machine, since: ReturnType<typeof cpuClock>): Machine {
  const now = cpuClock();
  if (!since || !now || now.total <= since.total) return machine;
  return { ...machine, stealPct: Math.round(((now.steal - since.steal) / (now.total - since.total)) * 1000) / 10 };
}
