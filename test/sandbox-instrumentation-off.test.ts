import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PRELOAD = fileURLToPath(new URL('../bench/lib/sandbox-instrumentation-off.cjs', import.meta.url));
const REPO = fileURLToPath(new URL('../', import.meta.url));

/**
 * Run in the main thread and in a worker thread (where the SDK runs workflows): whether a vm call's
 * timeout still applies, and whether the SDK's promise hook gets installed.
 */
const PROBE = `(() => {
  const vm = require('node:vm');
  let timedOut = false;
  try {
    new vm.Script('const end = Date.now() + 2000; while (Date.now() < end) {}').runInContext(vm.createContext({}), { timeout: 20 });
  } catch (error) {
    timedOut = /timed out/.test(String(error));
  }
  const { GlobalHandlers } = require('@temporalio/worker/lib/workflow/vm-shared.js');
  const handlers = new GlobalHandlers();
  handlers.install();
  const hook = handlers.promiseHookInstalled;
  handlers.uninstall();
  return { timedOut, hook };
})`;

/** A real node process, with or without the overhead bench's preload. */
function run(preload: boolean): unknown {
  const source = `
const { Worker } = require('node:worker_threads');
const main = (${PROBE})();
const worker = new Worker(${JSON.stringify(`require('node:worker_threads').parentPort.postMessage((${PROBE})())`)}, { eval: true });
worker.once('message', (thread) => { console.log(JSON.stringify({ main, thread })); void worker.terminate(); });
`;
  const out = execFileSync(process.execPath, [...(preload ? ['--require', PRELOAD] : []), '-e', source], {
    cwd: REPO,
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe("the overhead bench's preload that turns the SDK's sandbox instrumentation off", () => {
  it('drops the vm timeout and the promise hook in worker threads only', () => {
    expect(run(true)).toEqual({ main: { timedOut: true, hook: true }, thread: { timedOut: false, hook: false } });
  });

  it('without it, both apply in worker threads too', () => {
    expect(run(false)).toEqual({ main: { timedOut: true, hook: true }, thread: { timedOut: true, hook: true } });
  });
});
