import { expect, test } from 'vitest';
import { cpuPer, sampleCpu, threadIds } from '../../bench/lib/cpu.js';
import { cpuClock, withSteal } from '../../bench/lib/machine.js';

/** Burns CPU on this thread until the process has used `ms` of it (not wall time: a loaded machine may deschedule us). */
function burn(ms: number): number {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + i);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return (used.user + used.system) / 1000;
  }
}

test.runIf(process.platform === 'linux')(
  'the overhead bench counts CPU where it was spent: this thread is the main one',
  () => {
    const before = sampleCpu(process.pid, new Set(), null);
    const used = burn(300);
    const after = sampleCpu(process.pid, new Set(), null);
    const per = cpuPer(before, after, 3);
    // Nearly all of the process's CPU was this thread's; /proc counts at a 10 ms tick. Per "session": a third.
    expect(per.main * 3).toBeGreaterThanOrEqual(used - 60);
    expect(per.main * 3).toBeLessThanOrEqual(used + 30);
    // The "server" here is this whole process: its window (from the first sample's first reading to
    // the second's last) holds the main thread's. The kernel splits each figure's CPU time into utime
    // and stime and truncates each to a 10 ms tick, for the process and the thread independently: a
    // reading can fall up to two ticks short of the true total, so a difference of two readings is
    // off by up to two ticks either way, and the process's by up to four against the thread's.
    expect(per.server).toBeGreaterThanOrEqual(per.main - (4 * 10) / 3);
    expect(per.workflow).toBe(0);
    expect(per.agents).toBe(0);
    // Threads named as workflow threads move their time out of the pool and sdk-core's share.
    const asWorkflow = sampleCpu(process.pid, threadIds(), null);
    expect(asWorkflow.pool + asWorkflow.core).toBe(0);
  },
);

test.runIf(process.platform === 'linux')("a benchmark's machine says what share of the CPU the hypervisor took", () => {
  const clock = cpuClock();
  expect(clock).not.toBeNull();
  expect(clock!.total).toBeGreaterThan(clock!.steal);
  burn(100);
  const later = cpuClock()!;
  // /proc/stat counts in ticks of 10 ms over all cores: 100 ms of this thread is at least a few.
  expect(later.total).toBeGreaterThan(clock!.total);
  const machine = withSteal(
    {
      cpuModel: 'x',
      cores: 2,
      ramGb: 1,
      os: 'Linux',
      node: 'v20',
      temporalCli: '1',
      temporalSdk: '1',
      loadAvgAtStart: 0,
    },
    clock,
  );
  expect(machine.stealPct).toBeGreaterThanOrEqual(0);
  expect(machine.stealPct).toBeLessThanOrEqual(100);
  // Without a clock to start from, nothing is claimed.
  expect(withSteal(machine, null)).toBe(machine);
});
