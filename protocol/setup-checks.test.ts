import { describe, expect, test } from 'vitest';
import { toLoopConfig } from './schemas/loop-config.js';
import { LoopSpecSchema, type LoopSpecInput } from './schemas/loop-spec.js';
import { gpuHints, sandboxCheck, wantsGpu } from './setup-checks.js';

const config = (fields: Partial<LoopSpecInput>, executor: Record<string, unknown> = { agent: 'codex' }) =>
  toLoopConfig(
    LoopSpecSchema.parse({
      name: 'gpu',
      root: '.',
      goal: 'g',
      budget: { sessions: 1 },
      evidence: { command: 'python eval.py', metric: 'acc' },
      executor,
      ...fields,
    }),
    '/r',
  );

describe('the Codex sandbox against GPU needs', () => {
  test('a spec declaring budget.resources: [gpu] with a sandboxed Codex executor is an error with the fix', () => {
    const check = sandboxCheck(config({ budget: { sessions: 1, resources: ['GPU'] } }));
    expect(check).toMatchObject({ id: 'sandbox', status: 'fail' });
    expect(check!.message).toMatch(
      /^executor\.sandbox: workspace-write hides the GPUs that budget\.resources declares/,
    );
    expect(check!.fix).toMatch(/sandbox: danger-full-access/);
    expect(
      sandboxCheck(config({ budget: { sessions: 1, resources: ['gpu'] } }, { agent: 'codex', sandbox: 'read-only' })),
    ).toMatchObject({ status: 'fail' });
  });

  test('a loop that only looks like GPU work (its task queue, preset:gpu) gets a warning', () => {
    expect(sandboxCheck(config({ taskQueue: 'gpu-a100' }))).toMatchObject({ status: 'warn' });
    expect(sandboxCheck(config({ env: ['preset:gpu'] }))!.message).toContain('(preset:gpu)');
    expect(gpuHints(config({ taskQueue: 'cuda-box', env: ['preset:gpu'] }))).toEqual([
      'task queue cuda-box',
      'preset:gpu',
    ]);
  });

  test('full access, another executor kind, or no GPU need: nothing to say', () => {
    const gpu = { budget: { sessions: 1, resources: ['gpu'] } };
    expect(sandboxCheck(config(gpu, { agent: 'codex', sandbox: 'danger-full-access' }))).toBeNull();
    expect(sandboxCheck(config(gpu, { agent: 'claude' }))).toBeNull();
    expect(sandboxCheck(config({}))).toBeNull();
    expect(wantsGpu(config({}))).toBe(false);
    expect(wantsGpu(config(gpu))).toBe(true);
  });
});
