import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { concurrency } from './benchmarks/concurrency.js';
import { handoff } from './benchmarks/handoff.js';
import { long } from './benchmarks/long.js';
import { overhead } from './benchmarks/overhead.js';
import { startup } from './benchmarks/startup.js';
import { stop } from './benchmarks/stop.js';
import { waiting } from './benchmarks/waiting.js';
import type { AnyBenchmark } from './benchmarks/benchmark.js';
import { ensureTemporalBinary } from '../server/temporal-binary.js';
import { openBenchEnv } from './lib/env.js';
import { cpuClock, describeMachine, withSteal } from './lib/machine.js';
import { BENCH_MD, RESULTS_DIR, SECTION_ORDER } from './lib/paths.js';
import { readResults, writeBenchMd } from './lib/report.js';
import type { BenchResult } from './lib/result.js';

/**
 * `npm run bench [-- <name>… ] [--quick]`: runs the benchmarks one after another (never two at
 * once: they would measure each other), each on its own dev server, writes
 * bench/results/<name>.json and regenerates BENCH.md from every stored result.
 */

const BENCHMARKS: Record<string, AnyBenchmark> = { handoff, overhead, concurrency, waiting, long, stop, startup };
const ORDER = Object.keys(BENCHMARKS);

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { quick: { type: 'boolean', default: false } },
});
const unknown = positionals.filter((p) => !(p in BENCHMARKS));
if (unknown.length) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; choose from ${ORDER.join(', ')}\n`);
  process.exitCode = 2;
} else {
  const chosen = positionals.length ? ORDER.filter((n) => positionals.includes(n)) : ORDER;
  await mkdir(RESULTS_DIR, { recursive: true });
  for (const name of chosen) {
    const bench = BENCHMARKS[name]!;
    log(`${name}: ${bench.title}${values.quick ? ' (quick)' : ''}`);
    const started = Date.now();
    const clock = cpuClock();
    const options = { quick: values.quick, log: (line: string) => log(`${name}: ${line}`) };
    const env = bench.local ? null : await openBenchEnv(name, log);
    try {
      const binary = env?.binary ?? (await ensureTemporalBinary({ log })).path;
      const machine = await describeMachine(binary);
      const outcome = bench.local
        ? await bench.run({ binary, log: options.log }, options)
        : await bench.run(env!, options);
      const result: BenchResult = {
        name,
        title: bench.title,
        quick: values.quick,
        date: new Date(started).toISOString(),
        durationS: Math.round((Date.now() - started) / 1000),
        machine: withSteal(machine, clock),
        ...outcome,
      };
      await writeFile(`${RESULTS_DIR}${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
      for (const t of result.targets)
        log(`${name}: ${t.label}: ${t.measured} (wanted ${t.target}) ${t.met ? 'met' : 'MISSED'}`);
    } catch (error) {
      log(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    } finally {
      await env?.close();
    }
  }
  await writeBenchMd(BENCH_MD, await readResults(RESULTS_DIR), SECTION_ORDER);
  log(`wrote ${BENCH_MD}`);
}
