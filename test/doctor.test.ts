import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { probeSetup } from '../activities/setup-probe.js';
import type { DoctorReport, SetupCheck } from '../protocol/schemas/doctor.js';
import { toLoopConfig } from '../protocol/schemas/loop-config.js';
import { LoopSpecSchema, type LoopSpecInput } from '../protocol/schemas/loop-spec.js';
import { ensureAgentCli } from './helpers/agent-clis.js';
import { runCli } from './helpers/cli.js';
import { testdir } from './helpers/testdir.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';
import { fakeProviderConfig } from './fixtures/fake-models/openai-responses.js';

/**
 * `loop-station doctor` end to end: the CLI against the test server, its agent checks run by a
 * real worker (allowed roots of its own) with the real pinned CLIs; a healthy setup passes, a
 * broken one names each problem and its fix. And the GPU check through Codex's own sandbox.
 */

let worker: TestWorker;
let allowed: string;
let codexBin: string;
let claudeBin: string;

beforeAll(async () => {
  allowed = await testdir({}, 'loop-station-allowed-');
  worker = await startTestWorker({ allowRoots: [allowed] });
  const [codex, claude] = await Promise.all([ensureAgentCli('codex'), ensureAgentCli('claude')]);
  codexBin = codex.path;
  claudeBin = claude.path;
}, 600_000);
afterAll(async () => {
  await worker.stop();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** A project under `parent`: an evaluator printing the metric. */
async function project(parent: string): Promise<string> {
  const root = await mkdtemp(join(parent, 'project-'));
  await writeFile(join(root, 'eval.mjs'), 'console.log(JSON.stringify({ score: 0.75 }));\n');
  return root;
}

async function specFile(root: string, fields: Partial<LoopSpecInput>): Promise<string> {
  const spec = {
    name: 'doctor-test',
    root,
    goal: 'check the setup',
    budget: { sessions: 1 },
    evidence: { command: `${JSON.stringify(process.execPath)} eval.mjs`, metric: 'score' },
    taskQueue: worker.taskQueue,
    ...fields,
  };
  const file = join(await testdir(), 'loop.json');
  await writeFile(file, JSON.stringify(spec));
  return file;
}

const byId = (report: DoctorReport) => Object.fromEntries(report.checks.map((c) => [c.id, c]));

describe('loop-station doctor', () => {
  test('a healthy setup: every check ok on the worker, the models named, exit 0', async () => {
    vi.stubEnv('FAKE_CODEX_KEY', 'sk-fake-codex');
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-fake');
    const root = await project(allowed);
    const file = await specFile(root, {
      executor: {
        agent: 'codex',
        command: codexBin,
        model: 'gpt-5-codex',
        env: ['FAKE_CODEX_KEY'],
        config: fakeProviderConfig('http://127.0.0.1:9', 'FAKE_CODEX_KEY'),
      },
      reviewers: [{ name: 'claude', agent: 'claude', command: claudeBin, env: ['ANTHROPIC_API_KEY'] }],
    });
    const ran = await runCli(['doctor', '--spec', file, '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const report = JSON.parse(ran.stdout) as DoctorReport;
    expect(report).toMatchObject({ ok: true, checkedOn: 'worker', taskQueue: worker.taskQueue });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['temporal', 'ok'],
      ['worker', 'ok'],
      ['root', 'ok'],
      ['cli CODEX', 'ok'],
      ['login CODEX', 'ok'],
      ['model CODEX', 'ok'],
      ['cli CLAUDE', 'ok'],
      ['login CLAUDE', 'ok'],
      ['model CLAUDE', 'ok'],
      ['evidence', 'ok'],
    ]);
    const checks = byId(report);
    expect(checks['login CODEX']!.message).toBe('API key: FAKE_CODEX_KEY');
    expect(checks['cli CODEX']!.message).toBe(`codex 0.169.0 at ${codexBin}`);
    expect(checks['model CODEX']!.message).toBe('gpt-5-codex at $1.25 / $0.125 cached / $10 per million tokens');
    expect(checks.evidence!.message).toMatch(/printed score = 0\.75/);
    expect(report.models).toEqual([
      { agent: 'CODEX', kind: 'codex', model: 'gpt-5-codex' },
      { agent: 'CLAUDE', kind: 'claude', model: 'sonnet' },
    ]);
  });

  test('a broken setup: missing CLI, missing login, root outside the allowed roots, each failed with its fix, exit 1', async () => {
    const home = await testdir();
    vi.stubEnv('HOME', home);
    for (const name of ['CODEX_HOME', 'CODEX_API_KEY', 'CLAUDE_CONFIG_DIR']) vi.stubEnv(name, '');
    const outside = await project(await testdir({}, 'loop-station-elsewhere-'));
    const file = await specFile(outside, {
      executor: { agent: 'codex', command: codexBin, env: ['CODEX_API_KEY'] },
      reviewers: [{ name: 'claude', agent: 'claude', command: '/nonexistent/bin/claude' }],
    });
    const ran = await runCli(['doctor', '--spec', file, '--json']);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('loop-station: 3 checks failed: root, login CODEX, cli CLAUDE');
    const report = JSON.parse(ran.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    const failed = report.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['root', 'login CODEX', 'cli CLAUDE']);
    const checks = byId(report);
    expect(checks.root).toEqual({
      id: 'root',
      status: 'fail',
      message: `loop root ${outside} is outside the worker's allowed roots (${allowed})`,
      fix: `start the worker with --allow-root ${outside} (or a folder above it), or move the root under ${allowed}`,
    } satisfies SetupCheck);
    expect(checks['login CODEX']!.fix).toContain('codex login');
    expect(checks['cli CLAUDE']).toMatchObject({
      message: '/nonexistent/bin/claude not found',
      fix: 'install it: `npm i -g @anthropic-ai/claude-code@2.1.330`, or set command: on the agent',
    });
    // Nothing runs in a root the worker may not use.
    expect(checks.evidence).toMatchObject({ status: 'skip' });
  });

  test('a dead address: exit 3 with the fix, and the agent checks made on this machine instead', async () => {
    vi.stubEnv('FAKE_CODEX_KEY', 'sk-fake-codex');
    const root = await project(allowed);
    const file = await specFile(root, {
      executor: {
        agent: 'codex',
        command: codexBin,
        env: ['FAKE_CODEX_KEY'],
        config: fakeProviderConfig('http://127.0.0.1:9', 'FAKE_CODEX_KEY'),
      },
    });
    const ran = await runCli(['doctor', '--spec', file, '--json', '--address', '127.0.0.1:1'], { connect: false });
    expect(ran.code).toBe(3);
    const report = JSON.parse(ran.stdout) as DoctorReport;
    expect(report.checkedOn).toBe('here');
    const checks = byId(report);
    expect(checks.temporal).toMatchObject({ status: 'fail' });
    expect(checks.temporal!.message).toMatch(/^cannot reach Temporal at 127\.0\.0\.1:1/);
    expect(checks.temporal!.fix).toContain('loop-station dev');
    expect(checks.root).toMatchObject({ status: 'skip' });
    expect(checks['cli CODEX']).toMatchObject({ status: 'ok' });
    expect(checks.evidence).toMatchObject({ status: 'ok' });
  });

  test('submit refuses a spec whose checks fail, and starts it with --skip-checks', async () => {
    const outside = await project(await testdir({}, 'loop-station-elsewhere-'));
    const file = await specFile(outside, { executor: { agent: 'shell', command: 'true' } });
    const refused = await runCli(['submit', file, '--id', `doctor-refused-${Date.now()}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('1 setup check failed; nothing was started:');
    expect(refused.stderr).toContain(`FAIL root: loop root ${outside} is outside the worker's allowed roots`);
    expect(refused.stderr).toContain('or pass --skip-checks to start anyway');

    const id = `doctor-skipped-${Date.now()}`;
    const started = await runCli(['submit', file, '--id', id, '--skip-checks']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout.trim()).toBe(`loop-${id}`);
    // Started without the checks, the loop meets the worker's own refusal of the root.
    const ended = await worker.client.workflow
      .getHandle(`loop-${id}`)
      .result()
      .then(
        () => 'completed',
        (error: unknown) => String((error as { cause?: { message?: string } }).cause?.message ?? error),
      );
    expect(ended).toContain('not under an allowed output root');
  });
});

describe('the GPU check', () => {
  /** An nvidia-smi that lists a GPU while the NVIDIA device files are there: as the real one does, here faked by the size of /dev. */
  async function fakeNvidiaSmi(): Promise<string> {
    const bin = await testdir();
    await writeFile(
      join(bin, 'nvidia-smi'),
      '#!/bin/sh\nif [ "$(ls /dev | wc -l)" -gt 30 ]; then echo "GPU 0: Fake A100 (UUID: GPU-fake-0)"; exit 0; fi\n' +
        'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver." >&2; exit 9\n',
    );
    await chmod(join(bin, 'nvidia-smi'), 0o755);
    return bin;
  }

  /** The evidence check of a loop whose eval.py-like evaluator prints `printed` after a log line. */
  const evidenceCheckOf = async (printed: string, evidence: Partial<LoopSpecInput['evidence']>) => {
    const root = await project(allowed);
    await writeFile(join(root, 'eval.mjs'), `console.log('epoch 3 done');\nconsole.log(${JSON.stringify(printed)});\n`);
    const config = toLoopConfig(
      LoopSpecSchema.parse({
        name: 'evidence',
        root,
        goal: 'g',
        budget: { sessions: 1 },
        evidence: { command: `${JSON.stringify(process.execPath)} eval.mjs`, metric: 'score', ...evidence },
        executor: { agent: 'shell', command: 'true' },
      }),
      root,
    );
    const result = await probeSetup({ config, evidence: true }, [allowed]);
    return result.checks.find((c) => c.id === 'evidence');
  };

  test('the evidence check reads output as the loop does: nested, pretty-printed, NaN; an unmeasurable protection fails', async () => {
    const pretty = JSON.stringify({ val: { acc: 0.9 }, loss: null }, null, 2).replace('null', 'NaN');
    expect(await evidenceCheckOf(pretty, { metric: 'val.acc' })).toMatchObject({ status: 'ok' });
    expect(
      await evidenceCheckOf('{"val": {"acc": 0.9}, "lat": NaN}', { metric: 'val.acc', protect: ['lat <= 5'] }),
    ).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(
        'protection lat <= 5 could not be measured: no number lat in the evidence output (got: metrics val.acc)',
      ) as string,
    });
  });

  const gpuConfig = async (sandbox: 'workspace-write' | 'danger-full-access') => {
    const root = await project(allowed);
    return toLoopConfig(
      LoopSpecSchema.parse({
        name: 'gpu',
        root,
        goal: 'g',
        budget: { sessions: 1, resources: ['gpu'] },
        evidence: { command: 'true', metric: 'x' },
        executor: {
          agent: 'codex',
          command: codexBin,
          sandbox,
          env: ['FAKE_CODEX_KEY'],
          config: fakeProviderConfig('http://127.0.0.1:9', 'FAKE_CODEX_KEY'),
        },
      }),
      root,
    );
  };

  test("a GPU the worker has is hidden inside Codex's workspace-write sandbox: found through the sandbox itself", async () => {
    vi.stubEnv('PATH', `${await fakeNvidiaSmi()}:${process.env.PATH ?? ''}`);
    vi.stubEnv('FAKE_CODEX_KEY', 'sk-fake-codex');
    const result = await probeSetup({ config: await gpuConfig('workspace-write'), evidence: false }, [allowed]);
    expect(result.checks.find((c) => c.id === 'gpu CODEX')).toMatchObject({
      status: 'fail',
      message:
        "this worker's GPUs (GPU 0: Fake A100 (UUID: GPU-fake-0)) are hidden inside Codex's workspace-write sandbox",
    });
  });

  test('with danger-full-access the executor sees it', async () => {
    vi.stubEnv('PATH', `${await fakeNvidiaSmi()}:${process.env.PATH ?? ''}`);
    vi.stubEnv('FAKE_CODEX_KEY', 'sk-fake-codex');
    const result = await probeSetup({ config: await gpuConfig('danger-full-access'), evidence: false }, [allowed]);
    expect(result.checks.find((c) => c.id === 'gpu CODEX')).toMatchObject({
      status: 'ok',
      message: 'GPUs visible to the executor: GPU 0: Fake A100 (UUID: GPU-fake-0)',
    });
  });
});
