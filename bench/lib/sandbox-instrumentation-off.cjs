// Benchmark only, never in the product: a `node --require` preload for a worker process that turns
// off two things the Temporal SDK (1.24) does in its workflow thread around the engine's code, so the
// overhead benchmark can price them (bench/benchmarks/overhead.ts, `sandbox` figures):
// - every call into the workflow sandbox runs with the deadlock timeout (isolateExecutionTimeout),
//   and Node's vm implements a timeout by starting and joining a watchdog thread per call;
// - a promise hook captures a source-mapped stack trace for every promise the workflow code
//   creates (for the stack-trace query of the Temporal UI).
// CommonJS, as `--require` loads it before any loader; it acts only in worker threads, where the
// preload runs too: the SDK's workflow thread, and tsx's loader thread, which uses neither.
'use strict';
const { isMainThread } = require('node:worker_threads');

if (!isMainThread) {
  const vm = require('node:vm');
  const runInContext = vm.Script.prototype.runInContext;
  vm.Script.prototype.runInContext = function (context, options) {
    if (options && options.timeout !== undefined) {
      const { timeout: _dropped, ...rest } = options;
      return runInContext.call(this, context, rest);
    }
    return runInContext.call(this, context, options);
  };
  const shared = require(require.resolve('@temporalio/worker/lib/workflow/vm-shared.js', { paths: [process.cwd()] }));
  shared.GlobalHandlers.prototype.setPromiseHook = function () {};
}
