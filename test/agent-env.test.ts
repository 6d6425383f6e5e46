import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { node, runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * The spec's env presets on a real loop: the worker's GPU, Python and proxy variables reach the
 * executor and the evidence command; what looks secret is redacted in everything recorded, paths
 * are not; what no entry allows stays out.
 */

const worker = useTestWorker();

const WORKER_ENV: Record<string, string> = {
  CUDA_VISIBLE_DEVICES: '0,1',
  NVIDIA_DRIVER_CAPABILITIES: 'compute,utility',
  LD_LIBRARY_PATH: '/usr/local/cuda/lib64',
  VIRTUAL_ENV: '/opt/venvs/research',
  HF_HOME: '/data/hf-cache',
  HTTPS_PROXY: 'http://proxy.internal:3128',
  NO_PROXY: 'localhost,127.0.0.1',
  SSL_CERT_FILE: '/etc/ssl/corp-ca.pem',
  CODEX_HOME: '/home/researcher/.codex',
  LS_RUN_FLAG: 'fast-mode-enabled',
  LS_NOT_ALLOWED: 'never-passed-value',
};
/** The variables the agents print, when they have them: those this test sets in the worker. */
const SHOWN = JSON.stringify([...Object.keys(WORKER_ENV), 'WANDB_API_KEY', 'LS_MARKED']);

afterEach(() => {
  for (const name of [...Object.keys(WORKER_ENV), 'WANDB_API_KEY', 'LS_MARKED']) delete process.env[name];
});

describe('env presets', () => {
  test('preset:gpu, preset:python and preset:proxy reach the executor and the evidence command; keys are redacted, paths are not', async () => {
    const wandbKey = `wandb-${randomUUID()}`;
    const marked = `marked-${randomUUID()}`;
    Object.assign(process.env, WORKER_ENV, { WANDB_API_KEY: wandbKey, LS_MARKED: marked });
    const root = await toyRoot({
      'print-env.mjs': `for (const [k, v] of Object.entries(process.env).sort()) if (${SHOWN}.includes(k)) console.log(k + '=' + v);\n`,
    });
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      env: ['preset:gpu', 'preset:python', 'preset:proxy'],
      evidence: {
        // The evidence command sees the loop's env too: it leaves what it saw beside its metrics.
        command: `${JSON.stringify(process.execPath)} print-env.mjs > "$LOOP_STATION_EVIDENCE_DIR/env.txt" && ${JSON.stringify(process.execPath)} eval.mjs`,
        metric: 'score',
        direction: 'maximize',
        protect: ['guard >= 1'],
      },
      executor: {
        name: 'toy_exec',
        agent: 'shell',
        env: ['CODEX_HOME', 'LS_RUN_FLAG', 'secret:LS_MARKED'],
        command: `${JSON.stringify(process.execPath)} print-env.mjs && ${node('toy-executor.mjs')}`,
      },
    });
    const { result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.sessions).toBe(1);

    const runs = join(root, 'loop_station/sessions/session_001/runs');
    // The log is the agent's own output, its secrets redacted as the run ended: a marker stands
    // where the agent printed exactly the value it was given.
    const seen = await readFile(join(runs, 'TOY_EXEC-EXECUTOR.log'), 'utf8');
    expect(seen.split('\n').filter(Boolean)).toEqual([
      'CODEX_HOME=/home/researcher/.codex',
      'CUDA_VISIBLE_DEVICES=0,1',
      'HF_HOME=/data/hf-cache',
      'HTTPS_PROXY=http://proxy.internal:3128',
      `LD_LIBRARY_PATH=/usr/local/cuda/lib64`,
      'LS_MARKED=[redacted:LS_MARKED]',
      'LS_RUN_FLAG=fast-mode-enabled',
      'NO_PROXY=localhost,127.0.0.1',
      'NVIDIA_DRIVER_CAPABILITIES=compute,utility',
      'SSL_CERT_FILE=/etc/ssl/corp-ca.pem',
      'VIRTUAL_ENV=/opt/venvs/research',
      'WANDB_API_KEY=[redacted:WANDB_API_KEY]',
    ]);
    // What the engine records (the result file, which is also what history holds) is redacted.
    const recorded = JSON.parse(await readFile(join(runs, 'TOY_EXEC-EXECUTOR.json'), 'utf8')) as { stdoutTail: string };
    expect(recorded.stdoutTail).toContain('WANDB_API_KEY=[redacted:WANDB_API_KEY]');
    expect(recorded.stdoutTail).toContain('LS_MARKED=[redacted:LS_MARKED]');
    expect(recorded.stdoutTail).toContain('CODEX_HOME=/home/researcher/.codex');
    expect(recorded.stdoutTail).toContain('LS_RUN_FLAG=fast-mode-enabled');
    expect(recorded.stdoutTail).not.toContain(wandbKey);

    // The evidence command got the loop's presets, not the executor's own names.
    const evidenceEnv = await readFile(join(root, 'loop_station/sessions/session_001/evidence/env.txt'), 'utf8');
    expect(evidenceEnv).toContain('CUDA_VISIBLE_DEVICES=0,1');
    expect(evidenceEnv).toContain('VIRTUAL_ENV=/opt/venvs/research');
    expect(evidenceEnv).toContain('HTTPS_PROXY=http://proxy.internal:3128');
    expect(evidenceEnv).toContain('SSL_CERT_FILE=/etc/ssl/corp-ca.pem');
    expect(evidenceEnv).not.toContain('LS_RUN_FLAG');
    expect(`${seen}${evidenceEnv}`).not.toContain('never-passed-value');
  });
});
