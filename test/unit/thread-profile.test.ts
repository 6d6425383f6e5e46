import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  breakDownWorkflowThread,
  bundleModules,
  type CpuProfile,
  findWorkflowThreadProfile,
  type ProfileNode,
} from '../../bench/lib/thread-profile.js';

// A webpack bundle's module headers as the SDK's bundler writes them (line numbers are 0-based in profiles).
const BUNDLE = [
  '/******/ (() => {',
  '/***/ "./node_modules/@temporalio/workflow/lib/worker-interface.js"',
  '/*!***!*\\',
  'function activate() {}',
  '/***/ "./node_modules/zod/v4/core/parse.js"',
  'function parse() {}',
  '/***/ "./workflows/loop.ts"',
  'async function loopWorkflow() {}',
  '/***/ "./protocol/session-rules.ts"',
  'function decide() {}',
].join('\n');
const URL_ = 'file:///tmp/bench-x/loop-workflows.js';

/** Nodes as V8 writes them: ids, call frames, children; `path` lists a chain from the root down. */
class Tree {
  nodes: ProfileNode[] = [{ id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [] }];
  /** The leaf id of this chain of frames under the root (shared prefixes reuse nodes). */
  path(...frames: [string, string, number][]): number {
    let at = this.nodes[0]!;
    for (const [functionName, url, lineNumber] of frames) {
      const existing = (at.children ?? [])
        .map((c) => this.nodes.find((n) => n.id === c)!)
        .find((n) => n.callFrame.functionName === functionName && n.callFrame.url === url);
      if (existing) {
        at = existing;
        continue;
      }
      const node: ProfileNode = {
        id: this.nodes.length + 1,
        callFrame: { functionName, url, lineNumber },
        children: [],
      };
      this.nodes.push(node);
      at.children!.push(node.id);
      at = node;
    }
    return at.id;
  }
}

const t = new Tree();
const activate: [string, string, number] = ['handleRequest', 'file:///x/workflow-worker-thread.js', 36];
const run: [string, string, number] = ['runInContext', '', -1];
const ids = {
  load: t.path(['compileForInternalLoader', 'node:internal/bootstrap/realm', 382]),
  idle: t.path(['(idle)', '', -1]),
  loop: t.path(activate, run, ['loopWorkflow', URL_, 7]),
  engineNative: t.path(activate, run, ['loopWorkflow', URL_, 7], ['decide', URL_, 9], ['stringify', '', -1]),
  hook: t.path(
    activate,
    run,
    ['loopWorkflow', URL_, 7],
    ['initAll', 'node:internal/promise_hooks', 23],
    ['get stack', '', -1],
  ),
  sandbox: t.path(activate, run),
  sdk: t.path(activate, run, ['activate', URL_, 3]),
  zod: t.path(activate, run, ['loopWorkflow', URL_, 7], ['parse', URL_, 5]),
  thread: t.path(activate, ['postMessage', '', -1]),
  gc: t.path(['(garbage collector)', '', -1]),
  program: t.path(['(program)', '', -1]),
};

/** Samples in order with the ms each stands for (V8: timeDeltas[i + 1] is the time of sample i). */
function profile(samples: [number, number][]): CpuProfile {
  return {
    nodes: t.nodes,
    samples: samples.map(([id]) => id),
    timeDeltas: [0, ...samples.map(([, ms]) => ms * 1000)].slice(0, samples.length),
  };
}

describe('where the workflow thread goes, from its CPU profile', () => {
  test('the bundle lines map to their modules', () => {
    const moduleOf = bundleModules(BUNDLE);
    expect([0, 3, 5, 7, 9].map(moduleOf)).toEqual([
      '',
      './node_modules/@temporalio/workflow/lib/worker-interface.js',
      './node_modules/zod/v4/core/parse.js',
      './workflows/loop.ts',
      './protocol/session-rules.ts',
    ]);
  });

  test('each sample goes to one part; the load before the first loop frame and idle time are left out', () => {
    const p = profile([
      [ids.load, 50],
      [ids.idle, 7],
      [ids.loop, 1],
      [ids.engineNative, 2],
      [ids.hook, 3],
      [ids.sandbox, 4],
      [ids.sdk, 5],
      [ids.zod, 6],
      [ids.thread, 8],
      [ids.gc, 9],
      [ids.idle, 10],
      [ids.program, 11],
      [ids.loop, 12],
      [ids.thread, 100],
    ]);
    const { ms } = breakDownWorkflowThread(p, 'loop-workflows.js', bundleModules(BUNDLE));
    expect(ms).toEqual({
      engine: 1 + 2 + 12,
      hook: 3,
      sandboxCall: 4,
      sdkRuntime: 5,
      library: 6,
      sdkThread: 8,
      gc: 9,
      other: 11,
      busy: 1 + 2 + 3 + 4 + 5 + 6 + 8 + 9 + 11 + 12,
    });
  });

  test("a profile without the loop's frames is refused", () => {
    expect(() => breakDownWorkflowThread(profile([[ids.thread, 1]]), 'other-bundle.js', bundleModules(BUNDLE))).toThrow(
      /no loopWorkflow frame/,
    );
  });

  const dir = mkdtempSync(join(tmpdir(), 'thread-profile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the workflow thread is the profile that ran loopWorkflow, not the main thread that read the bundle', () => {
    const main = new Tree();
    main.path(['readFileSync', 'node:fs', 1], ['(anonymous)', URL_, 0]);
    writeFileSync(
      join(dir, 'CPU.1.0.001.cpuprofile'),
      JSON.stringify({ nodes: main.nodes, samples: [], timeDeltas: [] }),
    );
    writeFileSync(join(dir, 'CPU.1.2.003.cpuprofile'), JSON.stringify(profile([[ids.loop, 1]])));
    writeFileSync(join(dir, 'notes.txt'), 'not a profile');
    expect(findWorkflowThreadProfile(dir, 'loop-workflows.js').nodes).toHaveLength(t.nodes.length);
    expect(() => findWorkflowThreadProfile(dir, 'elsewhere.js')).toThrow(/no CPU profile/);
  });
});
