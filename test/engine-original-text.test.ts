import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { toyRoot, toySpec } from './helpers/loops.js';
import { waitForFile } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

/** Reviewers that write as the original LOOP-STATION templates do: their veto holds end to end. */

const worker = useTestWorker();

/** The original reviewer_review.md, filled in: no verdict header, the veto in its sections. */
const templateReview = (agent: string) =>
  [
    '# Reviewer Report',
    '',
    `- agent: ${agent}`,
    '- model/version: claude-opus-4',
    '- role: `REVIEWER`',
    '- session: 001',
    '- status: DONE',
    '',
    '## Evidence Checked',
    '- executor_report.md, metrics.json',
    '## Metric / Log Analysis',
    '- variance or confounds: evaluator reads the workspace directly; the gain is an artifact',
    '## Verdict',
    '- supported: no',
    '- unsupported: yes — the score gain is a metric leak, not an improvement',
    '- uncertain: no',
    '## Promote / Keep / Retire',
    '- promote: no',
    '- keep: no',
    '- retire: yes — retire this axis',
    '',
  ].join('\n');

let n = 0;
const start = (config: ReturnType<typeof toySpec>) =>
  worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-original-text-${process.pid}-${Date.now()}-${n++}`,
    taskQueue: worker.taskQueue,
    args: [{ config }],
  });

const decisionOf = (root: string) => readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');

describe("the original template's veto", () => {
  test('a managed reviewer that vetoes in ## Verdict / ## Promote / Keep / Retire holds the promotion', async () => {
    const root = await toyRoot({
      'review.md': templateReview('REV'),
      'copy-review.mjs':
        "import { copyFileSync } from 'node:fs';\ncopyFileSync('review.md', process.env.LOOP_STATION_OUTPUT);\n",
    });
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 2 },
      reviewers: [
        { name: 'rev', agent: 'shell', command: `${JSON.stringify(process.execPath)} copy-review.mjs`, required: true },
      ],
    });
    const result = (await (await start(config)).result()) as LoopResult;
    expect(result.history[0]).toMatchObject({ session: 1, class: 'needs_more_evidence', value: 1 });
    const decision = await decisionOf(root);
    expect(decision).toMatch(/reviews: REV:unsupported/);
    expect(decision).toMatch(/REV found it unsupported and recommends retire/);
    expect(decision).toMatch(/Reviews: REV done unsupported → retire\./);
  });

  test('an external reviewer whose DONE flag body is decorated is counted, and its template veto holds', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 2 },
      reviewers: [{ name: 'out', agent: 'external', required: true }],
      reviewWait: { startTimeout: '4s', doneTimeout: '20s', heartbeatTimeout: '20s', skipOnTimeout: true },
    });
    const handle = await start(config);
    const flags = join(root, 'loop_station/flags/session_001');
    await waitForFile(join(flags, 'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag'));
    await mkdir(join(root, 'loop_station/reviews/session_001'), { recursive: true });
    await writeFile(
      join(root, 'loop_station/reviews/session_001/OUT-SESSION001-REVIEWER-DONE.md'),
      templateReview('OUT'),
    );
    await writeFile(
      join(flags, 'OUT-SESSION001-REVIEWER-DONE.flag'),
      'producer: OUT (Claude Code reviewer)\nrole: REVIEWER\nsession: 001\nstatus: DONE (review complete, summaries skipped)\n',
      { flag: 'wx' },
    );
    const result = (await handle.result()) as LoopResult;
    expect(result.history[0]).toMatchObject({ session: 1, class: 'needs_more_evidence', value: 1 });
    const reviewFlags = await readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
    expect(reviewFlags).not.toMatch(/FLAG_BODY_MISMATCH/);
    expect(await decisionOf(root)).toMatch(/OUT found it unsupported and recommends retire/);
  });
});
