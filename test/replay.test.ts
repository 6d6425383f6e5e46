import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, test } from 'vitest';

/**
 * Every recorded history (scripts/record-history.ts) replays against today's workflow code: a
 * change that would break running loops fails here first. Changed logic goes behind `patched()`.
 */
const dir = fileURLToPath(new URL('./histories/', import.meta.url));

describe('recorded histories', () => {
  test('replay without nondeterminism', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(5);
    const histories = await Promise.all(
      files.map(async (file) => {
        const recorded = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
          workflowId: string;
          history: unknown;
        };
        return { workflowId: recorded.workflowId, history: historyFromJSON(recorded.history) };
      }),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      histories,
    )) {
      if (result.error)
        failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message.split('\n')[0]}`);
    }
    expect(failures).toEqual([]);
  });
});
