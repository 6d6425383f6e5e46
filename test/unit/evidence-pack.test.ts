import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { keepEvidenceArtifacts } from '../../activities/evidence-artifacts.js';
import { writeEvidencePack } from '../../activities/evidence-pack.js';
import { snapshotVariant } from '../../activities/variants.js';
import { LEADERBOARD_COLUMNS, renderLeaderboardRow } from '../../protocol/schemas/leaderboard.js';
import type { Best, EvidenceResult } from '../../protocol/schemas/state.js';
import { toySpec } from '../helpers/loops.js';
import { testdir } from '../helpers/testdir.js';

/**
 * The evidence pack written from a real loop folder: variants snapshotted by the engine's own code,
 * a leaderboard, metrics, evidence images, logs and an earlier review.
 */

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

const PNG = (tag: number) =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from([tag, 1, 2, 3])]);

async function put(root: string, rel: string, content: string | Buffer) {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), content);
}

const evidence = (value: number, psnr: number): EvidenceResult => ({
  command: 'node eval.mjs',
  exit_code: 0,
  metrics: { score: value, guard: 1, psnr },
  metric: 'score',
  value,
  protection: [{ criterion: 'guard >= 1', value: 1, pass: true }],
  error: null,
});

/** Sessions 0–2 closed (2 is the best, on axis `steps`), session 3 measured and about to be reviewed. */
async function loopFolder() {
  const root = await testdir({ 'work/x.txt': 'alpha\nbeta\n', 'work/model.bin': '\u0000\u0001binary', 'eval.mjs': '' });
  roots.push(root);
  const config = { ...toySpec(root, 'q'), evidence: { ...toySpec(root, 'q').evidence, artifacts: ['out/*.png'] } };
  const snap = (session: number, slug: 'baseline' | 'candidate') =>
    snapshotVariant({
      root,
      session,
      slug,
      workspace: config.workspace,
      protectedGlobs: slug === 'baseline' ? config.protected : [],
      command: 'node eval.mjs',
      reason: 'test',
      createdAt: '2026-12-01T00:00:00.000Z',
    });
  await snap(0, 'baseline');
  await put(root, 'work/x.txt', 'alpha\nBETA\n');
  await snap(1, 'candidate');
  await put(root, 'work/x.txt', 'alpha\nbeta\ngamma\n');
  await snap(2, 'candidate');
  await put(root, 'work/x.txt', 'alpha\nbeta\ngamma\ndelta\n');
  await put(root, 'work/new.txt', 'a new file\n');
  await put(root, 'work/model.bin', '\u0000\u0002binary changed');
  await snap(3, 'candidate');
  const row = (session: number, cls: string, value: number, axis: string | null) =>
    renderLeaderboardRow({
      session,
      timestamp: '2026-12-01T00:00:00.000Z',
      axis,
      class: cls as 'keep',
      metric: 'score',
      value,
      protection: 'pass',
      best_session: session === 1 ? 0 : session,
      best_value: session === 1 ? 1 : value,
      reviews: session === 0 ? [] : ['TOY_REV:supported'],
      variant: `loop_station/code_variants/session_00${session}/${session === 0 ? 'baseline' : 'candidate'}`,
    });
  await put(
    root,
    'loop_station/leaderboard.csv',
    `${LEADERBOARD_COLUMNS.join(',')}\n${row(0, 'baseline', 1, null)}${row(1, 'keep', 1, 'steps')}${row(2, 'promote', 3, 'steps')}`,
  );
  await put(
    root,
    'loop_station/reviews/session_002/TOY_REV-SESSION002-REVIEWER-DONE.md',
    'agent: TOY_REV\nverdict: supported\nrecommendation: promote\n\n## Recommended Next Action\n\n- try a larger step\n- watch the guard\n',
  );
  await put(root, 'loop_station/sessions/session_003/metrics.json', JSON.stringify(evidence(4, 30.5)));
  // The evidence command wrote out/denoised.png in the root (kept per session) and a plot into its folder.
  await put(root, 'out/denoised.png', PNG(3));
  await keepEvidenceArtifacts(root, config.evidence.artifacts, 3);
  await put(root, 'loop_station/sessions/session_003/evidence/plot.png', PNG(30));
  await put(root, 'loop_station/sessions/session_003/evidence/notes.csv', 'a,b\n');
  await put(root, 'loop_station/sessions/session_002/evidence/artifacts/out/denoised.png', PNG(2));
  await put(
    root,
    'loop_station/sessions/session_003/runs/TOY_EXEC-EXECUTOR.log',
    `${Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n')}\n\x1b[31mred error\x1b[0m\n`,
  );
  await put(root, 'loop_station/sessions/session_003/runs/evidence.stdout.log', '{"score":4}\n');
  const best: Best = {
    session: 2,
    value: 3,
    metrics: { score: 3, guard: 1, psnr: 30 },
    axis: 'steps',
    variant: 'loop_station/code_variants/session_002/candidate',
  };
  return { root, config, best };
}

const read = (root: string, rel: string) =>
  readFile(join(root, 'loop_station/sessions/session_003/evidence_pack', rel), 'utf8');

describe('writeEvidencePack', () => {
  test('diffs the candidate against the best and the previous session, paths relative to the root, binaries named', async () => {
    const { root, config, best } = await loopFolder();
    await writeEvidencePack({ config, session: 3, axis: 'steps', best, axes: [] });
    const vsBest = await read(root, 'diff_vs_best.patch');
    expect(vsBest).toContain('# Evidence pack, session 003: the candidate against the best (session 002)');
    expect(vsBest).toContain('# work/model.bin: binary or too large to show (8 bytes → 16 bytes)');
    expect(vsBest).toContain(
      [
        '--- work/new.txt\tloop_station/code_variants/session_002/candidate',
        '+++ work/new.txt\tloop_station/code_variants/session_003/candidate',
      ].join('\n'),
    );
    expect(vsBest).toContain(
      [
        '--- work/x.txt\tloop_station/code_variants/session_002/candidate',
        '+++ work/x.txt\tloop_station/code_variants/session_003/candidate',
        '@@ -1,3 +1,4 @@',
        ' alpha',
        ' beta',
        ' gamma',
        '+delta',
      ].join('\n'),
    );
    // Without a best the candidate is compared with the baseline; the previous session is 002 still.
    await writeEvidencePack({ config, session: 3, axis: 'steps', best: null, axes: [] });
    expect(await read(root, 'diff_vs_best.patch')).toContain('@@ -1,2 +1,4 @@\n alpha\n beta\n+gamma\n+delta\n');
    expect(await read(root, 'diff_vs_best.patch')).toContain('the candidate against the baseline (session 000)');
    expect(await read(root, 'diff_vs_previous.patch')).toContain(
      "the candidate against the previous session's candidate (session 002)",
    );
  });

  test('pairs each image with the best session’s of the same name and returns the ones to attach', async () => {
    const { root, config, best } = await loopFolder();
    const result = await writeEvidencePack({ config, session: 3, axis: 'steps', best, axes: [] });
    const pair = [
      'loop_station/sessions/session_003/evidence/artifacts/out/denoised.png',
      'loop_station/sessions/session_002/evidence/artifacts/out/denoised.png',
    ];
    expect(result).toEqual({
      index: 'loop_station/sessions/session_003/evidence_pack/README.md',
      images: [...pair, 'loop_station/sessions/session_003/evidence/plot.png'],
    });
    const images = await read(root, 'images.md');
    expect(images).toContain(`| artifacts/out/denoised.png | \`${pair[0]}\` | \`${pair[1]}\` |`);
    expect(images).toContain('| plot.png | `loop_station/sessions/session_003/evidence/plot.png` | none |');
    expect(await readFile(join(root, pair[0]!))).toEqual(PNG(3));
  });

  test('metrics, logs, earlier reviews and the index carry what the prompts promise', async () => {
    const { root, config, best } = await loopFolder();
    await writeEvidencePack({
      config,
      session: 3,
      axis: 'steps',
      best,
      axes: [{ name: 'steps', plateau: 0, retired: false, retiredAtSession: null, sessions: 2, bestValue: 3 }],
    });
    const metrics = await read(root, 'metrics.md');
    expect(metrics).toContain('| **score** | 4 | 3 | 1 |');
    expect(metrics).toContain('| psnr | 30.5 | 30 | 0.5 |');
    expect(metrics).toContain('| 002 | steps | promote | 3 | pass | 3 (002) | TOY_REV:supported |');
    expect(metrics).toContain('| steps | 2 | 0 | no | 3 (002) | 3 |');
    const logs = await read(root, 'logs.md');
    expect(logs).toContain('Full log: `loop_station/sessions/session_003/runs/TOY_EXEC-EXECUTOR.log`');
    expect(logs).toContain('Last 60 lines:');
    expect(logs).toContain('\nred error\n```');
    expect(logs).not.toContain('line 40\n');
    expect(logs).toContain(
      '## Evidence command: stderr\n\nFull log: `loop_station/sessions/session_003/runs/evidence.stderr.log`\n\n(no such log)',
    );
    const reviews = await read(root, 'reviews.md');
    expect(reviews).toContain('| 002 | TOY_REV | supported | promote | promote |');
    expect(reviews).toContain('- try a larger step\n- watch the guard');
    const index = await read(root, 'README.md');
    expect(index).toContain('- score = 4 this session; 3 at the best (session 002) (maximize)');
    expect(index).toContain('- against the best: 3 files differ: work/model.bin, work/new.txt, work/x.txt');
    expect(index).toContain('- images: 2 (1 with a counterpart in the best (session 002))');
    expect(index).toContain(`To measure it yourself, run \`${config.evidence.command}\` from the loop root`);
  });

  test("earlier reviews lose any agent's secrets and terminal escapes; an OSC sequence ended by ESC \\ hides no log line", async () => {
    const { root, config, best } = await loopFolder();
    const token = 'tok_live_9f8e7d6c5b4a3';
    process.env.LS_TEST_REVIEWER_TOKEN = token;
    try {
      // Only the reviewer may see the variable: the pack's redaction must still know it.
      const withEnv = {
        ...config,
        reviewers: config.reviewers.map((r) => ({ ...r, env: ['LS_TEST_REVIEWER_TOKEN'] })),
      };
      await put(
        root,
        'loop_station/reviews/session_002/TOY_REV-SESSION002-REVIEWER-DONE.md',
        `agent: TOY_REV\nverdict: supported ${token}\nrecommendation: see ${token}\n\n## Recommended Next Action\n\n- \x1b[2Jtry ${token}\n`,
      );
      await put(
        root,
        'loop_station/sessions/session_003/runs/TOY_EXEC-EXECUTOR.log',
        'a\n\x1b]0;title\x1b\\b\nc\nd\x07\n',
      );
      await writeEvidencePack({ config: withEnv, session: 3, axis: 'steps', best, axes: [] });
      const reviews = await read(root, 'reviews.md');
      expect(reviews).not.toContain(token);
      expect(reviews).not.toContain('\x1b');
      // The verdict as the engine read it; a recommendation it could not read, as written and redacted.
      expect(reviews).toContain('| 002 | TOY_REV | supported | see [redacted:LS_TEST_REVIEWER_TOKEN] | promote |');
      expect(await read(root, 'logs.md')).toContain('\na\nb\nc\nd\x07\n');
    } finally {
      delete process.env.LS_TEST_REVIEWER_TOKEN;
    }
  });

  test('a vetoed session whose changes the candidate still carries has its reviews in the pack, whatever its axis', async () => {
    const { root, config } = await loopFolder();
    // Session 001 (depth) is the best; 002 (depth) was vetoed and kept, the workspace not restored;
    // 003 works on dropout from 002's workspace, so its diff against the best holds 002's change.
    const row = (session: number, cls: string, axis: string | null, bestSession: number) =>
      renderLeaderboardRow({
        session,
        timestamp: '2026-12-01T00:00:00.000Z',
        axis,
        class: cls as 'keep',
        metric: 'score',
        value: session,
        protection: 'pass',
        best_session: bestSession,
        best_value: bestSession,
        reviews: [],
        variant: null,
      });
    const board = (decided: string) =>
      put(
        root,
        'loop_station/leaderboard.csv',
        `${LEADERBOARD_COLUMNS.join(',')}\n${row(0, 'baseline', null, 0)}${row(1, 'promote', 'depth', 1)}${row(2, decided, 'depth', 1)}`,
      );
    await put(
      root,
      'loop_station/reviews/session_002/TOY_REV-SESSION002-REVIEWER-DONE.md',
      'agent: TOY_REV\nverdict: unsupported\nrecommendation: return_to_best\n\n## Recommended Next Action\n\n- revert the depth change\n',
    );
    const best: Best = {
      session: 1,
      value: 1,
      metrics: { score: 1 },
      axis: 'depth',
      variant: 'loop_station/code_variants/session_001/candidate',
    };
    await board('keep');
    await writeEvidencePack({ config, session: 3, axis: 'dropout', best, axes: [] });
    const reviews = await read(root, 'reviews.md');
    expect(reviews).toContain('## Changes This Candidate Carries');
    expect(reviews).toContain('also holds the changes of session 002: not promoted');
    expect(reviews).toContain('| 002 | TOY_REV | unsupported | return_to_best | keep |');
    expect(reviews).toContain('- revert the depth change');
    expect(reviews).toContain('No other earlier session on this axis was reviewed.');
    expect(await read(root, 'README.md')).toContain(
      'and on the unpromoted sessions whose changes this candidate carries',
    );

    // Had 002's decision restored the best's workspace, 003 would not carry its change.
    await board('return_to_best');
    await writeEvidencePack({ config, session: 3, axis: 'dropout', best, axes: [] });
    expect(await read(root, 'reviews.md')).toBe(
      '# Earlier reviews on axis `dropout` — before session 003\n\nNo earlier session on this axis was reviewed.\n',
    );
  });

  test('a session whose executor left no candidate says so instead of diffing', async () => {
    const { root, config, best } = await loopFolder();
    await rm(join(root, 'loop_station/code_variants/session_003'), { recursive: true });
    await writeEvidencePack({ config, session: 3, axis: 'steps', best, axes: [] });
    expect(await read(root, 'diff_vs_best.patch')).toContain(
      '# Nothing compared: this session has no candidate variant',
    );
  });
});

describe('keepEvidenceArtifacts', () => {
  test("copies what the artifacts patterns match, never the engine's own folders", async () => {
    const root = await testdir({
      'out/a.png': 'a',
      'out/b.txt': 'b',
      'loop_station/sessions/session_001/evidence/artifacts/out/old.png': 'x',
    });
    roots.push(root);
    const kept = await keepEvidenceArtifacts(root, ['**/*.png', 'out/b.txt'], 2);
    expect(kept).toEqual([
      'loop_station/sessions/session_002/evidence/artifacts/out/a.png',
      'loop_station/sessions/session_002/evidence/artifacts/out/b.txt',
    ]);
    expect(await keepEvidenceArtifacts(root, ['out/a.png'], 0)).toEqual([
      'loop_station/code_variants/session_000/baseline/evidence/artifacts/out/a.png',
    ]);
  });
});
