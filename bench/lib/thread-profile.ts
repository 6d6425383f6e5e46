import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a worker's workflow thread spends its CPU, from the V8 CPU profile Node writes for each
 * thread when started with `--cpu-prof`. Each sample's time goes to one part: the promise hook
 * (any frame of it on the stack), the sandbox call's own native time (the sample's top frame is
 * vm's `runInContext`: entering the context and the watchdog thread a time limit starts and joins),
 * the garbage collector, native work V8 names no function for (`(program)`), or the code the top
 * frame with a source belongs to: the engine's workflow code, the SDK's workflow runtime or another
 * library (told apart by the bundle's module of that line), or the SDK's side of the thread outside
 * the sandbox (receiving activations, encoding, posting completions back). Samples before the first loop workflow frame (the bundle's load) and
 * after the last bundle frame are left out. Written here because V8's profile format is a tree of
 * call frames with sample ids, which no kept library turns into these parts.
 */

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export const THREAD_PARTS = [
  'hook',
  'sandboxCall',
  'engine',
  'sdkRuntime',
  'library',
  'sdkThread',
  'gc',
  'other',
] as const;
export type ThreadPart = (typeof THREAD_PARTS)[number];

export const THREAD_PART_LABELS: Record<ThreadPart, string> = {
  hook: "the SDK's promise hook: a source-mapped stack trace for every promise",
  sandboxCall: "vm's runInContext itself: entering the sandbox, the deadlock timeout's watchdog thread",
  engine: "the engine's workflow code (workflows/, protocol/)",
  sdkRuntime: "the SDK's workflow runtime in the sandbox (@temporalio/workflow, common)",
  library: 'other libraries in the bundle (zod)',
  sdkThread: "the SDK's thread outside the sandbox: activations in, completions out",
  gc: 'garbage collection',
  other: 'native work V8 does not attribute to a function',
};

export interface ThreadBreakdown {
  /** ms of CPU per part, and busy (their sum), in the window. */
  ms: Record<ThreadPart | 'busy', number>;
}

/** Line (0-based) → module path, from the webpack bundle's `/***\/ "./path"` header lines. */
export function bundleModules(bundleText: string): (line: number) => string {
  const starts: { line: number; module: string }[] = [];
  bundleText.split('\n').forEach((text, line) => {
    const m = /^\/\*\*\*\/ "([^"]+)"/.exec(text);
    if (m) starts.push({ line, module: m[1]! });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = '';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        found = starts[mid]!.module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

const isBundle = (url: string, bundleName: string) => url.endsWith(`/${bundleName}`) || url === bundleName;

/** The profile of the thread that ran the bundle, among those in `dir`. */
export function findWorkflowThreadProfile(dir: string, bundleName: string): CpuProfile {
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
    // The main thread maps the bundle too (the SDK reads it there): the workflow thread runs loopWorkflow.
    if (profile.nodes.some((n) => isBundle(n.callFrame.url, bundleName) && n.callFrame.functionName === 'loopWorkflow'))
      return profile;
  }
  throw new Error(`no CPU profile in ${dir} ran loopWorkflow from ${bundleName}`);
}

export function breakDownWorkflowThread(profile: CpuProfile, bundleName: string, moduleOf: (line: number) => string) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const chain = (id: number): ProfileNode[] => {
    const out: ProfileNode[] = [];
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) out.push(nodes.get(x)!);
    return out;
  };
  const partOf = new Map<number, ThreadPart | null>();
  const classify = (id: number): ThreadPart | null => {
    const frames = chain(id);
    const top = frames[0]!.callFrame;
    if (top.functionName === '(idle)' || top.functionName === '(root)') return null;
    if (top.functionName === '(program)') return 'other';
    if (top.functionName === '(garbage collector)') return 'gc';
    if (frames.some((f) => f.callFrame.url.includes('promise_hooks'))) return 'hook';
    if (top.url === '' && top.functionName === 'runInContext') return 'sandboxCall';
    const own = frames.find((f) => f.callFrame.url !== '');
    if (!own || !isBundle(own.callFrame.url, bundleName)) return 'sdkThread';
    const module = moduleOf(own.callFrame.lineNumber);
    if (module.startsWith('./workflows/') || module.startsWith('./protocol/')) return 'engine';
    if (module.startsWith('./node_modules/@temporalio/') || module.startsWith('./node_modules/nexus-rpc/'))
      return 'sdkRuntime';
    return 'library';
  };
  const inBundle = new Map<number, boolean>();
  const loopFrame = new Map<number, boolean>();
  const bundleFrame = (f: ProfileNode) => isBundle(f.callFrame.url, bundleName);
  const loopWorkflowFrame = (f: ProfileNode) => f.callFrame.functionName === 'loopWorkflow';
  for (const n of profile.nodes) {
    const frames = chain(n.id);
    inBundle.set(n.id, frames.some(bundleFrame));
    loopFrame.set(n.id, frames.some(loopWorkflowFrame));
  }
  const first = profile.samples.findIndex((s) => loopFrame.get(s));
  let last = -1;
  profile.samples.forEach((s, i) => {
    if (inBundle.get(s)) last = i;
  });
  if (first < 0) throw new Error('the workflow thread profile has no loopWorkflow frame');
  const ms = Object.fromEntries([...THREAD_PARTS, 'busy'].map((k) => [k, 0])) as ThreadBreakdown['ms'];
  for (let i = first; i <= last; i++) {
    const id = profile.samples[i]!;
    if (!partOf.has(id)) partOf.set(id, classify(id));
    const part = partOf.get(id);
    if (!part) continue;
    // timeDeltas[i] is the time since the previous sample: the time this sample stands for.
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i]!) / 1000;
    ms[part] += dt;
    ms.busy += dt;
  }
  return { ms } satisfies ThreadBreakdown;
}
