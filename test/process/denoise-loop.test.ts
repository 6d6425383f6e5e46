import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LoopSpecSchema } from '../../protocol/schemas/loop-spec.js';
import { FRAME, dryRun } from '../../examples/denoise-psnr/dry-run.mjs';
import { EXAMPLE_DIR, setupRoot } from '../../examples/denoise-psnr/setup.mjs';
import { decodePng } from '../../examples/denoise-psnr/lib/png.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'denoise-psnr-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const read = (root: string, rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
const write = (root: string, rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
};
const headerOf = (text: string) =>
  Object.fromEntries(
    text
      .split('\n## ')[0]!
      .split('\n')
      .map((l) => /^([a-z_]+): (.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1], m[2]]),
  );
const linesOf = (text: string) => text.split('\n');
const sectionsOf = (text: string) => [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]);

function evalJson(root: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['eval.mjs', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LOOP_STATION_EVIDENCE_DIR: '', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: r.status === 0 ? JSON.parse(r.stdout) : null };
}

function runAgent(root: string, role: 'EXECUTOR' | 'REVIEWER', session: number) {
  const nnn = String(session).padStart(3, '0');
  const agent = `SCRIPTED_${role}`;
  const output =
    role === 'REVIEWER'
      ? `loop_station/reviews/session_${nnn}/${agent}-SESSION${nnn}-REVIEWER-DONE.md`
      : `loop_station/sessions/session_${nnn}/executor_report.md`;
  const r = spawnSync(process.execPath, [`tools/${role.toLowerCase()}.mjs`], {
    cwd: root,
    encoding: 'utf8',
    input: `${role} prompt`,
    env: {
      ...process.env,
      LOOP_STATION_ROLE: role,
      LOOP_STATION_AGENT: agent,
      LOOP_STATION_SESSION: nnn,
      LOOP_STATION_ROOT: root,
      LOOP_STATION_SESSION_DIR: `loop_station/sessions/session_${nnn}`,
      LOOP_STATION_PROMPT_FILE: '',
      LOOP_STATION_OUTPUT: output,
    },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return read(root, output);
}
const runReviewer = (root: string, session: number) => runAgent(root, 'REVIEWER', session);

describe('loop.yaml', () => {
  const spec = LoopSpecSchema.parse(YAML.parse(fs.readFileSync(path.join(EXAMPLE_DIR, 'loop.yaml'), 'utf8')));

  test('is a valid loop spec for 12 sessions with one required reviewer', () => {
    expect([spec.name, spec.root, spec.budget.sessions, spec.reviewers.length, spec.reviewers[0]!.required]).toEqual([
      'denoise-psnr',
      './experiment',
      12,
      1,
      true,
    ]);
  });

  test('has a real-agent twin, loop.agents.yaml, that is valid too', () => {
    const agents = LoopSpecSchema.parse(
      YAML.parse(fs.readFileSync(path.join(EXAMPLE_DIR, 'loop.agents.yaml'), 'utf8')),
    );
    expect([agents.executor.agent, ...agents.reviewers.map((r) => r.agent)]).toEqual(['codex', 'claude', 'shell']);
    expect(agents.evidence).toEqual(spec.evidence);
  });

  test('agrees with the frame the dry-run driver uses', () => {
    expect({
      evidenceCommand: spec.evidence.command,
      metric: spec.evidence.metric,
      minDelta: spec.evidence.minDelta,
      plateau: spec.evidence.plateau,
      protect: spec.evidence.protect,
      workspace: spec.workspace,
      protected: spec.protected,
      executor: { name: spec.executor.name, command: spec.executor.agent === 'shell' ? spec.executor.command : null },
      reviewer: {
        name: spec.reviewers[0]!.name,
        command: spec.reviewers[0]!.agent === 'shell' ? spec.reviewers[0]!.command : null,
      },
    }).toEqual(FRAME);
  });
});

describe('setup.mjs and eval.mjs', () => {
  const root = path.join(tmp, 'setup');
  beforeAll(() => setupRoot(root));

  test('a second setup rewrites nothing and keeps an edited pipeline', () => {
    write(root, 'denoiser/pipeline.json', '{"steps":[]}\n');
    expect(setupRoot(root)).toEqual({
      root,
      codeFilesWritten: 0,
      pipelineCreated: false,
      dataImages: 24,
      dataFilesWritten: 0,
    });
    expect(read(root, 'denoiser/pipeline.json')).toBe('{"steps":[]}\n');
  });

  test('eval.mjs prints one JSON line of metrics, and PNG evidence on request', () => {
    const r = evalJson(root, ['--split', 'train'], { LOOP_STATION_EVIDENCE_DIR: 'ev' });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(Object.keys(r.json)).toEqual(['psnr', 'ssim', 'ms', 'noisy_psnr']);
    expect(r.json.psnr).toBe(r.json.noisy_psnr); // the identity pipeline written above
    for (const name of ['noisy.png', 'denoised.png', 'clean.png']) {
      const png = decodePng(fs.readFileSync(path.join(root, 'ev', name)));
      expect([png.width, png.height]).toEqual([96, 96]);
    }
  });

  test('eval.mjs exits 2 on a bad argument and 1 on a bad pipeline, with the reason on stderr', () => {
    expect(evalJson(root, ['--split', 'test'])).toMatchObject({ status: 2, stdout: '' });
    write(root, 'bad.json', '{"steps":[{"op":"gaussian","sigma":-1}]}');
    const r = evalJson(root, ['--pipeline', 'bad.json']);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      'eval.mjs: bad.json: steps[0].sigma: must be a number from 0.1 to 10 (got -1)',
    );
  });
});

describe('dry run with the scripted agents', () => {
  const root = path.join(tmp, 'dry');
  let result: ReturnType<typeof dryRun>;
  beforeAll(() => {
    result = dryRun(root, 2, () => undefined);
  }, 60_000);

  test('the first session promotes a real gain found on train', () => {
    const [first] = result.rows;
    expect(first).toMatchObject({
      axis: 'gaussian_sigma',
      review: { verdict: 'supported', recommendation: 'promote' },
      decision: { cls: 'promote' },
    });
    expect(first!.value - result.baseline.value).toBeGreaterThan(3);
  });

  test('the executor writes its report and proposal with the protocol header lines and sections', () => {
    const report = read(root, 'loop_station/sessions/session_001/executor_report.md');
    expect(Object.keys(headerOf(report))).toEqual(['agent', 'session', 'status', 'axis', 'started_at', 'finished_at']);
    expect(headerOf(report)).toMatchObject({
      agent: 'SCRIPTED_EXECUTOR',
      session: '001',
      status: 'DONE',
      axis: 'gaussian_sigma',
    });
    expect(sectionsOf(report)).toEqual([
      'What Ran',
      'Changed Values',
      'Implementation Variants',
      'Results',
      'Evidence',
      'Failures Or Surprises',
      'Executor Interpretation',
    ]);
    const proposal = read(root, 'loop_station/sessions/session_001/executor_proposal.md');
    expect(headerOf(proposal)).toMatchObject({
      agent: 'SCRIPTED_EXECUTOR',
      session: '001',
      proposed_next_session: '002',
    });
    expect(sectionsOf(proposal)).toEqual([
      'Summary',
      'Promote',
      'Keep',
      'Retire',
      'Proposed Next Action',
      'Reviewer Requests',
    ]);
  });

  test('the executor describes the train split from the images and data/manifest.json', () => {
    expect(linesOf(read(root, 'loop_station/sessions/session_001/executor_report.md'))).toContain(
      '- Scored the current pipeline and 3 variant(s) on the **train** split (12 images, 96×96; Gaussian noise, σ 21.28–28.70 in data/manifest.json) with lib/evaluate.mjs, the code eval.mjs runs. The validation split was not used.',
    );
  });

  test('the reviewer quotes the paired comparison it ran, the image size and the noise it measured', () => {
    const review = linesOf(
      read(root, 'loop_station/reviews/session_001/SCRIPTED_REVIEWER-SESSION001-REVIEWER-DONE.md'),
    );
    expect(
      review.filter((l) =>
        /validation images compared|^- Validation is small|^- Synthetic|noise actually added/.test(l),
      ),
    ).toEqual([
      '- Reading: no visible regression: edges and flats both as good or better. The noise actually added has RMS σ 26.91 on this split: method noise near it means the filter removes noise and little signal; well above it, signal is being removed; well below it, noise is left in.',
      '- With 12 validation images compared, the standard error of a paired mean difference is 0.447 dB here; a gain smaller than about twice that is not distinguishable from scene-to-scene variation, whatever minDelta says.',
      '- Synthetic 96×96 scenes and a fixed noise seed: results say little about real photographs.',
      '- Validation is small (12 images compared); PSNR means hide per-image losses (see the paired line above).',
    ]);
  });

  test('the executor reports the train PSNR that eval.mjs reproduces', () => {
    const claimed = /Written pipeline: [^\n]*?train PSNR ([\d.]+) dB/.exec(
      read(root, 'loop_station/sessions/session_002/executor_report.md'),
    )![1];
    expect(Number(claimed)).toBe(evalJson(root, ['--split', 'train']).json.psnr);
  });

  test('the reviewer writes every header line and section', () => {
    const review = read(root, 'loop_station/reviews/session_001/SCRIPTED_REVIEWER-SESSION001-REVIEWER-DONE.md');
    expect(headerOf(review)).toEqual({
      agent: 'SCRIPTED_REVIEWER',
      model: 'scripted',
      instruction_profile: 'denoise-psnr-scripted-reviewer/1',
      role: 'REVIEWER',
      session: '001',
      status: 'DONE',
      verdict: 'supported',
      recommendation: 'promote',
      blocked_reason: 'none',
    });
    expect(sectionsOf(review)).toEqual([
      'Evidence Checked',
      'Audit Methods Used',
      'Visual Image Check',
      'Metric/Log Analysis',
      'Historical Trend / Log Digest For Executor',
      'Scientific/Literature Challenge',
      'Code/Config Audit',
      'Verdict',
      'Promote/Keep/Retire',
      'Risks Or Confounds',
      'Recommended Next Action',
    ]);
    expect(review).toContain('0 pixels differ from my own run of the candidate');
  });

  test('the reviewer refuses a session whose evaluator changed after the baseline', () => {
    fs.appendFileSync(path.join(root, 'eval.mjs'), '// edited\n');
    const review = runReviewer(root, 2);
    expect(headerOf(review)).toMatchObject({ verdict: 'unsupported', recommendation: 'retire' });
    expect(review).toContain(
      'the protected evaluator or its data changed (eval.mjs; reference: loop_station/code_variants/session_000/baseline/manifest.json)',
    );
  });
});

describe('reviewer without an engine manifest', () => {
  const root = path.join(tmp, 'overfit');
  // Found by the dry run (session 011): a smaller NLM search window gains on train, loses on validation.
  const best = {
    steps: [
      { op: 'nlm', patch: 1, search: 5, h: 18, sigma: 25 },
      { op: 'median', radius: 1 },
    ],
  };
  const candidate = {
    steps: [
      { op: 'nlm', patch: 1, search: 4, h: 18, sigma: 25 },
      { op: 'median', radius: 1 },
    ],
  };

  beforeAll(() => {
    setupRoot(root);
    write(root, 'loop_station/code_variants/session_000/baseline/files/denoiser/pipeline.json', JSON.stringify(best));
    const bestValue = evalJson(root, [
      '--pipeline',
      'loop_station/code_variants/session_000/baseline/files/denoiser/pipeline.json',
    ]).json.psnr;
    write(
      root,
      'loop_station/leaderboard.csv',
      `session,timestamp,axis,class,metric,value,protection,best_session,best_value,reviews,variant\n000,2026-01-01T00:00:00.000Z,,baseline,psnr,${bestValue},pass,000,${bestValue},,baseline\n`,
    );
    write(root, 'denoiser/pipeline.json', JSON.stringify(candidate));
    for (const session of ['001', '002']) {
      const metrics = evalJson(root).json;
      write(
        root,
        `loop_station/sessions/session_${session}/metrics.json`,
        JSON.stringify({
          command: 'node eval.mjs',
          exit_code: 0,
          metrics,
          metric: 'psnr',
          value: metrics.psnr,
          protection: [],
          error: null,
        }),
      );
    }
  });

  test('calls a gain on train with a loss on validation unsupported and recommends retire', () => {
    const review = runReviewer(root, 1);
    expect(headerOf(review)).toMatchObject({ verdict: 'unsupported', recommendation: 'retire' });
    expect(review).toMatch(
      /the change gains \+0\.0\d+ dB on train but loses -0\.0\d+ dB on validation against the best/,
    );
    expect(linesOf(review)).toContain(
      '- Buades, Coll & Morel (2005): non-local means averages similar patches; with the 2σ² bias removed, h ≈ 0.4σ–1σ per pixel of a 3×3 patch is the usual range. It excels on repeated structure and edges, less on stochastic texture. The noise level differs per image here (on validation, σ 22.18–29.41 in data/manifest.json): one global h cannot fit all.',
    );
    expect(review).toContain('loop_station/reviews/SCRIPTED_REVIEWER-evaluator-sha256.json (first run: recorded now');
  }, 30_000);

  test('checks later sessions against the hashes it recorded first', () => {
    fs.writeFileSync(path.join(root, 'data/manifest.json'), `${read(root, 'data/manifest.json')} `);
    const review = runReviewer(root, 2);
    expect(headerOf(review)).toMatchObject({ verdict: 'unsupported', recommendation: 'retire' });
    expect(review).toContain(
      'the protected evaluator or its data changed (data/manifest.json; reference: loop_station/reviews/SCRIPTED_REVIEWER-evaluator-sha256.json (recorded in session 1))',
    );
  }, 30_000);
});

describe('reviewer with nothing to compare against', () => {
  const caveats = (review: string) =>
    linesOf(review).filter((l) => /^- (No paired|With \d+ validation|Validation is small|Tomasi|He, Sun)/.test(l));

  test('says that no paired comparison ran when there is no previous best, and quotes the noise of the data', () => {
    const root = path.join(tmp, 'no-best');
    setupRoot(root);
    write(
      root,
      'denoiser/pipeline.json',
      JSON.stringify({
        steps: [
          { op: 'bilateral', radius: 2, sigmaSpatial: 1.5, sigmaRange: 60 },
          { op: 'guided', radius: 2, eps: 1500 },
        ],
      }),
    );
    const review = runReviewer(root, 1);
    expect(headerOf(review)).toMatchObject({ verdict: 'uncertain', recommendation: 'needs_more_evidence' });
    expect(caveats(review)).toEqual([
      '- Tomasi & Manduchi (1998): a range sigma below about 2σ of the noise leaves noise on edges; far above it the filter degrades to a Gaussian. The sweet spot is narrow; on validation, σ 22.18–29.41 in data/manifest.json.',
      '- He, Sun & Tang (2010): a self-guided filter is edge-preserving when eps is well above the noise variance (on validation, σ² 492–865 from data/manifest.json).',
      '- No paired per-image comparison ran (there is no previous best I could run), so this session has no standard error to weigh a gain against.',
      '- Validation is small (12 images in data/manifest.json), and no per-image comparison ran this session: a mean can hide per-image losses.',
    ]);
  });

  test('says that no paired comparison ran when its own validation re-run failed', () => {
    const root = path.join(tmp, 'val-failed');
    setupRoot(root);
    write(root, 'denoiser/pipeline.json', '{"steps":[{"op":"gaussian","sigma":-1}]}');
    const review = runReviewer(root, 1);
    expect(headerOf(review)).toMatchObject({ verdict: 'unsupported', recommendation: 'retire' });
    expect(caveats(review)).toEqual([
      '- No paired per-image comparison ran (my validation re-run failed (`node eval.mjs --per-image`)), so this session has no standard error to weigh a gain against.',
      '- Validation is small (12 images in data/manifest.json), and no per-image comparison ran this session: a mean can hide per-image losses.',
    ]);
  });
});

describe('executor and the executor brief', () => {
  test('takes the noise range of the train split from data/manifest.json', () => {
    const root = path.join(tmp, 'manifest-sigma');
    setupRoot(root);
    const manifest = JSON.parse(read(root, 'data/manifest.json')) as { images: { split: string; sigma: number }[] };
    manifest.images.find((m) => m.split === 'train')!.sigma = 31.5;
    write(root, 'data/manifest.json', JSON.stringify(manifest));
    expect(linesOf(runAgent(root, 'EXECUTOR', 1)).filter((l) => l.startsWith('- Scored'))).toEqual([
      '- Scored the current pipeline and 3 variant(s) on the **train** split (12 images, 96×96; Gaussian noise, σ 21.28–31.50 in data/manifest.json) with lib/evaluate.mjs, the code eval.mjs runs. The validation split was not used.',
    ]);
  });

  const brief = (lines: string[]) =>
    `# Executor Brief — before session 001\n\n## What The Executor Should Try Next\n\n${lines.map((l) => `- ${l}`).join('\n')}\n\n## What Not To Reread\n\n- nothing\n`;

  test('starts on the first axis of its schedule', () => {
    const root = path.join(tmp, 'brief-none');
    setupRoot(root);
    expect(headerOf(runAgent(root, 'EXECUTOR', 1)).axis).toBe('gaussian_sigma');
  });

  test('skips an axis the engine lists as retired', () => {
    const root = path.join(tmp, 'brief-retired');
    setupRoot(root);
    write(
      root,
      'loop_station/summaries/EXECUTOR_BRIEF.md',
      brief([
        'axis median has gone 1 of 2 sessions without a promotion',
        'do not return to retired axis gaussian_sigma',
      ]),
    );
    const report = runAgent(root, 'EXECUTOR', 1);
    expect(headerOf(report).axis).toBe('median');
    expect(read(root, 'loop_station/sessions/session_001/executor_state.json')).toContain(
      '"retired": [\n    "gaussian_sigma"\n  ]',
    );
  });

  test('follows a human redirect that names an axis', () => {
    const root = path.join(tmp, 'brief-redirect');
    setupRoot(root);
    write(
      root,
      'loop_station/summaries/EXECUTOR_BRIEF.md',
      brief([
        'redirect from a human: try nlm_h now, the blur is a dead end',
        'your call: pick the most promising axis',
      ]),
    );
    const report = runAgent(root, 'EXECUTOR', 1);
    expect(headerOf(report).axis).toBe('nlm_h');
    expect(report).toContain('- Why: redirected to nlm_h (EXECUTOR_BRIEF.md).');
  }, 30_000);
});
