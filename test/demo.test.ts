import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { renderSummary } from '../cli/commands/demo.js';
import { reportCommand } from '../cli/commands/report.js';
import { validateCommand } from '../cli/commands/validate.js';
import { createOutput } from '../cli/output.js';
import { loadLoopSpec } from '../cli/spec-file.js';
import { setupRoot } from '../examples/denoise-psnr/setup.mjs';
import { runLoop } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { useTestWorker } from './helpers/worker.js';

/** The main job, shortened: the real denoise-psnr example with its scripted agents on the engine. */

const worker = useTestWorker();

describe('the demo loop', () => {
  test('4 sessions of denoise-psnr raise validation PSNR, pass validate and produce the report', async () => {
    const root = await testdir({}, 'loop-station-demo-');
    setupRoot(root);
    const spec = fileURLToPath(new URL('../examples/denoise-psnr/loop.yaml', import.meta.url));
    const { config } = await loadLoopSpec(spec, { root });
    config.budget.sessions = 4;
    config.taskQueue = worker.taskQueue;
    const { result } = await runLoop(worker.client, worker.taskQueue, config);

    expect(result.stopReason).toBe('budget_sessions');
    expect(result.baseline).not.toBeNull();
    expect(result.best!.value - result.baseline!).toBeGreaterThan(3);
    const noisy = (
      JSON.parse(await readFile(join(root, 'loop_station/sessions/session_001/metrics.json'), 'utf8')) as {
        metrics: Record<string, number>;
      }
    ).metrics.noisy_psnr!;
    expect(result.best!.value - noisy).toBeGreaterThan(5);
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);

    const report = await reportCommand({ target: root }, createOutput(), { quiet: true });
    expect(report.path).toBe(join(root, 'loop_station/report.html'));
    expect((await stat(report.path)).size).toBeGreaterThan(10_000);
    expect(
      renderSummary(result, 'psnr')
        .split('\n')
        .filter((l) => /^\d{3} /.test(l)),
    ).toHaveLength(5);
  }, 180_000);
});
