// The scripted reviewer's judgement and its review file (docs/protocol.md#review-file sections).
import { describePipeline } from '../lib/pipeline.mjs';
import { sigmaText, varianceText } from './dataset-facts.mjs';
import { fmt, pad, signed } from './loop-files.mjs';

/** Notes per filter; the noise figures are those of the validation split (f.dataset), not constants. */
const literature = (data) => ({
  gaussian:
    'A Gaussian blur is a linear low-pass filter: on white noise its best sigma trades flat-area noise against edge blur, and no linear filter beats the Wiener bound. Gains past the first tuning are usually a few hundredths of a dB.',
  median:
    'The median is optimal for impulse (salt-and-pepper) noise, not for Gaussian noise, where it is less efficient than the mean (asymptotic efficiency 2/π). As a main smoother it should lose to a tuned Gaussian; after another filter it mainly removes leftover outliers, and can round off fine texture.',
  bilateral: `Tomasi & Manduchi (1998): a range sigma below about 2σ of the noise leaves noise on edges; far above it the filter degrades to a Gaussian. The sweet spot is narrow; on validation, ${sigmaText(data)}.`,
  nlm: `Buades, Coll & Morel (2005): non-local means averages similar patches; with the 2σ² bias removed, h ≈ 0.4σ–1σ per pixel of a 3×3 patch is the usual range. It excels on repeated structure and edges, less on stochastic texture. The noise level differs per image here (on validation, ${sigmaText(data)}): one global h cannot fit all.`,
  wiener: 'Lee (1980) local Wiener: adaptive, cheap, and weaker than patch-based methods on edges.',
  guided: `He, Sun & Tang (2010): a self-guided filter is edge-preserving when eps is well above the noise variance (on validation, ${varianceText(data)}).`,
});

const literatureFor = (pipeline, data) =>
  [...new Set(pipeline.steps.map((s) => s.op))].map((op) => literature(data)[op]).filter(Boolean);

/** Verdict and recommended decision class, first matching rule wins. */
export function judge(f) {
  const d = f.frame.minDelta;
  const say = (verdict, recommendation, reason) => ({ verdict, recommendation, reason });
  if (!f.integrity.ok) {
    const what =
      f.integrity.changed.length > 0 ? f.integrity.changed.map((c) => c.path).join(', ') : 'eval.mjs is not listed';
    return say(
      'unsupported',
      'retire',
      `the protected evaluator or its data changed (${what}; reference: ${f.integrity.source}): no number from this session can be trusted`,
    );
  }
  if (f.candidateError)
    return say('unsupported', 'retire', `denoiser/pipeline.json does not load: ${f.candidateError}`);
  if (!f.val.ok) return say('unsupported', 'retire', `\`${f.val.command}\` failed: ${f.val.error}`);
  const v = f.val.result.psnr;
  const engineValue = f.metricsJson?.metrics?.psnr ?? f.metricsJson?.value;
  if (f.metricsJson && (typeof engineValue !== 'number' || Math.abs(engineValue - v) > f.tolerance)) {
    return say(
      'unsupported',
      'return_to_best',
      `metrics.json reports psnr ${engineValue} but my re-run of \`node eval.mjs\` gives ${fmt(v)} (tolerance ${f.tolerance} dB)`,
    );
  }
  if (
    f.report.claimedTrain !== null &&
    f.train.ok &&
    Math.abs(f.report.claimedTrain - f.train.result.psnr) > f.tolerance
  ) {
    return say(
      'unsupported',
      'return_to_best',
      `the executor reports train PSNR ${fmt(f.report.claimedTrain)} dB but my re-run gives ${fmt(f.train.result.psnr)} dB`,
    );
  }
  const failed = f.protection.filter((p) => !p.pass);
  if (failed.length > 0)
    return say(
      'unsupported',
      'retire',
      `protection fails: ${failed.map((p) => `${p.text} (got ${p.actual})`).join(', ')}`,
    );
  if (!f.best || !f.bestVal?.ok)
    return say(
      'uncertain',
      'needs_more_evidence',
      'no previous best could be re-run (leaderboard or snapshot missing), so there is nothing to compare against',
    );
  if (Math.abs(f.bestVal.result.psnr - f.best.value) > f.tolerance) {
    return say(
      'uncertain',
      'needs_more_evidence',
      `the previous best (session ${pad(f.best.session)}) re-runs at ${fmt(f.bestVal.result.psnr)} dB, not the leaderboard's ${fmt(f.best.value)} dB`,
    );
  }
  if (f.unchanged)
    return say(
      'uncertain',
      'pivot_axis',
      `the candidate is the previous best unchanged (${fmt(v)} dB): the executor found no train gain on this axis`,
    );
  const dv = v - f.bestVal.result.psnr;
  const dt = f.train.ok && f.bestTrain?.ok ? f.train.result.psnr - f.bestTrain.result.psnr : 0;
  if (dv > d) {
    const p = f.paired;
    const broad = !p || dv > 2 * p.se || p.wins >= (2 * p.n) / 3;
    const base = `validation PSNR ${fmt(v)} dB beats the best ${fmt(f.bestVal.result.psnr)} dB by ${signed(dv)} dB (minDelta ${d}), reproduced exactly`;
    return broad
      ? say('supported', 'promote', base)
      : say(
          'uncertain',
          'promote',
          `${base}, but only ${p.wins} of ${p.n} images improve and the gain is under 2 standard errors (${(2 * p.se).toFixed(3)} dB)`,
        );
  }
  if (dv >= -d)
    return say(
      'uncertain',
      'keep',
      `validation PSNR moves ${signed(dv)} dB, within minDelta ${d}: not distinguishable from the best`,
    );
  if (dt > d)
    return say(
      'unsupported',
      'retire',
      `the change gains ${signed(dt)} dB on train but loses ${signed(dv)} dB on validation against the best: it fits the train scenes, not the task`,
    );
  return say(
    'unsupported',
    'return_to_best',
    `validation PSNR falls ${signed(dv)} dB below the best (train ${signed(dt)} dB)`,
  );
}

function metricsTable(f) {
  const row = (label, r) =>
    r?.ok
      ? `| ${label} | ${fmt(r.result.psnr)} | ${fmt(r.result.ssim)} |`
      : `| ${label} | ${r ? `failed: ${r.error}` : 'not run'} | — |`;
  const engineValue = f.metricsJson?.metrics?.psnr ?? f.metricsJson?.value;
  return [
    '| source | PSNR (dB) | SSIM |',
    '|---|---|---|',
    row('candidate, validation (my re-run)', f.val),
    row('candidate, train (my re-run)', f.train),
    row(`previous best ${f.best ? pad(f.best.session) : '?'}, validation (my in-process run)`, f.bestVal),
    row(`previous best ${f.best ? pad(f.best.session) : '?'}, train (my re-run)`, f.bestTrain),
    `| metrics.json (engine, validation) | ${f.metricsJson ? fmt(engineValue) : 'absent'} | ${f.metricsJson ? fmt(f.metricsJson.metrics?.ssim) : '—'} |`,
    `| leaderboard best_value | ${f.best ? fmt(f.best.value) : 'absent'} | — |`,
    `| executor report, train claim | ${f.report.claimedTrain ?? 'not found'} | — |`,
  ].join('\n');
}

const pairedLine = (label, p) =>
  p
    ? `- ${label}: mean Δ ${signed(p.mean)} dB ± ${p.se.toFixed(3)} (SE), ${p.wins} of ${p.n} images better, ${p.losses} worse; range ${signed(p.worst)} … ${signed(p.best)} dB.`
    : `- ${label}: not available.`;

function visualCheck(f) {
  const lines = [];
  const e = f.evidence;
  if (!e)
    lines.push(
      '- No evaluator PNGs found (LOOP_STATION_EVIDENCE_DIR unset for me and no `evidence/` in the session folder).',
    );
  else if (e.error)
    lines.push(`- ${e.dir}: ${e.found.join(', ')} present, but denoised.png does not decode: ${e.error}.`);
  else
    lines.push(
      `- ${e.dir}: ${e.found.join(', ')} of \`${e.image}\` (${e.split}). denoised.png decodes to ${e.width}×${e.height}; ${e.mismatched === null ? 'not a validation image, so not compared' : `${e.mismatched} pixels differ from my own run of the candidate on that image`}.`,
    );
  const p = f.profile;
  lines.push('- I cannot look at pictures; I measure what a person would look for, on all validation images:');
  lines.push(
    '',
    '| | edge RMSE (top 20% clean gradients) | flat-area RMSE | method noise std (noisy − denoised) |',
    '|---|---|---|---|',
  );
  if (p)
    lines.push(`| candidate | ${p.edgeRmse.toFixed(2)} | ${p.flatRmse.toFixed(2)} | ${p.methodNoise.toFixed(2)} |`);
  if (f.bestProfile)
    lines.push(
      `| previous best | ${f.bestProfile.edgeRmse.toFixed(2)} | ${f.bestProfile.flatRmse.toFixed(2)} | ${f.bestProfile.methodNoise.toFixed(2)} |`,
    );
  lines.push('');
  if (p && f.bestProfile) {
    const de = p.edgeRmse - f.bestProfile.edgeRmse;
    const dfl = p.flatRmse - f.bestProfile.flatRmse;
    const reading =
      de > 0.05 && dfl < -0.05
        ? 'flatter flats but blurrier edges (over-smoothing trade)'
        : de < -0.05 && dfl > 0.05
          ? 'sharper edges but noisier flat areas'
          : de <= 0.05 && dfl <= 0.05
            ? 'no visible regression: edges and flats both as good or better'
            : 'worse on both edges and flats';
    lines.push(
      `- Reading: ${reading}. The noise actually added has RMS σ ${p.noiseSigma.toFixed(2)} on this split: method noise near it means the filter removes noise and little signal; well above it, signal is being removed; well below it, noise is left in.`,
    );
  }
  return lines.join('\n');
}

function trend(f) {
  const rows = f.best?.rows ?? [];
  if (rows.length === 0) return '- No leaderboard yet.';
  const first = rows[0];
  const classes = rows.slice(1).reduce((m, r) => ({ ...m, [r.class]: (m[r.class] ?? 0) + 1 }), {});
  const byAxis = {};
  for (const r of rows.slice(1)) (byAxis[r.axis] ??= []).push(r.class);
  return [
    `- Best so far: ${fmt(f.best.value)} dB (session ${pad(f.best.session)}), from ${first.value} dB at the baseline: ${signed(f.best.value - Number(first.value))} dB over ${rows.length - 1} session(s).`,
    `- Decisions so far: ${
      Object.entries(classes)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }.`,
    `- By axis: ${
      Object.entries(byAxis)
        .map(([a, cs]) => `${a || 'default'}: ${cs.join(', ')}`)
        .join('; ') || 'none'
    }.`,
    `- For the executor: ${f.paired && f.paired.mean < 0 ? 'this session lost on validation; do not build on it.' : 'numbers reproduce; continue from the best.'}`,
    '',
    '| session | axis | class | value | best |',
    '|---|---|---|---|---|',
    ...rows
      .slice(-8)
      .map(
        (r) => `| ${r.session} | ${r.axis || '—'} | ${r.class} | ${r.value} | ${r.best_value} (${r.best_session}) |`,
      ),
  ].join('\n');
}

/** Why the paired comparison did not run: the reviewer's validation re-run failed, or there is no best to compare with. */
const unpairedReason = (f) =>
  !f.val.ok ? `my validation re-run failed (\`${f.val.command}\`)` : 'there is no previous best I could run';

function pairedCaveat(f) {
  if (!f.paired)
    return `- No paired per-image comparison ran (${unpairedReason(f)}), so this session has no standard error to weigh a gain against.`;
  return `- With ${f.paired.n} validation images compared, the standard error of a paired mean difference is ${f.paired.se.toFixed(3)} dB here; a gain smaller than about twice that is not distinguishable from scene-to-scene variation, whatever minDelta says.`;
}

function ssimNote(f) {
  if (!f.val.ok || !f.bestVal?.ok) return '';
  const ds = f.val.result.ssim - f.bestVal.result.ssim;
  const dp = f.val.result.psnr - f.bestVal.result.psnr;
  if (dp > 0 && ds < -0.005)
    return `- PSNR rises but SSIM falls (${signed(ds, 4)}): the gain is in squared error, not in local structure.\n`;
  if (dp < 0 && ds > 0.005)
    return `- SSIM rises (${signed(ds, 4)}) while PSNR falls: structure is kept better, squared error is worse.\n`;
  return '';
}

export function renderReview(f, j) {
  const { env } = f;
  const diff =
    f.bestPipeline && f.candidate
      ? `\`${describePipeline(f.bestPipeline)}\` → \`${describePipeline(f.candidate)}\``
      : 'not available';
  const ok = f.integrity.ok;
  return `agent: ${env.agent}
model: scripted
instruction_profile: denoise-psnr-scripted-reviewer/1
role: REVIEWER
session: ${pad(env.session)}
status: DONE
verdict: ${j.verdict}
recommendation: ${j.recommendation}
blocked_reason: none

# Review — session ${pad(env.session)}

## Evidence Checked
- \`${env.sessionDir}/executor_report.md\`: ${f.report.found ? `status ${f.report.header.status ?? '?'}, axis ${f.report.header.axis ?? '?'}` : 'absent'}.
- \`${env.sessionDir}/metrics.json\`: ${f.metricsJson ? `exit_code ${f.metricsJson.exit_code}, ${f.metricsJson.metric ?? 'psnr'} ${f.metricsJson.value}` : 'absent'}.
- \`loop_station/leaderboard.csv\`: ${f.best ? `${f.best.rows.length} row(s); previous best session ${pad(f.best.session)} at ${fmt(f.best.value)} dB` : 'absent'}.
- \`denoiser/pipeline.json\` (candidate) and \`${f.best?.pipeline ?? 'no best snapshot'}\` (previous best).
- Protected files: ${f.integrity.count} hashes from ${f.integrity.source}.

## Audit Methods Used
- sha256 of every protected file, eval.mjs included (eval.mjs now ${f.integrity.evalSha?.slice(0, 16) ?? 'missing'}…).
- Re-ran the protected evaluator myself: ${[f.val, f.train, f.bestTrain]
    .filter(Boolean)
    .map((r) => `\`${r.command}\``)
    .join(', ')}.
- Ran the candidate and the previous best on validation in-process with lib/evaluate.mjs (the evaluator's own code) for per-image outputs.
- Paired per-image comparison with the previous best; error split into edges and flat areas; pixel comparison of the evaluator's denoised.png with my own output.

## Visual Image Check
${visualCheck(f)}

## Metric/Log Analysis
${metricsTable(f)}

${pairedLine('Validation, candidate − previous best', f.paired)}
${pairedLine('Train, candidate − previous best', f.pairedTrain)}
${f.protection.map((p) => `- Protection \`${p.text}\`: ${p.actual} → ${p.pass ? 'pass' : 'FAIL'}.`).join('\n') || '- No protection criteria.'}

## Historical Trend / Log Digest For Executor
${trend(f)}

## Scientific/Literature Challenge
${(f.candidate ? literatureFor(f.candidate, f.dataset) : []).map((t) => `- ${t}`).join('\n') || '- No filter-specific notes.'}
${pairedCaveat(f)}
- Every image has one fixed noise draw: a pipeline tuned hard on train can fit those draws; validation (other scenes, other draws) is the check.

## Code/Config Audit
- Pipeline change against the previous best: ${diff}.
- The candidate ${f.candidateError ? `does not validate: ${f.candidateError}` : 'validates against lib/filters.mjs (known ops, parameters in range)'}.
- Protected files: ${ok ? `${f.integrity.count} unchanged` : `CHANGED: ${f.integrity.changed.map((c) => c.path).join(', ') || 'eval.mjs not listed in the reference'}`}.

## Verdict
- **${j.verdict}**: ${j.reason}.

## Promote/Keep/Retire
- ${{ promote: 'Promote the candidate.', keep: 'Keep: no real difference from the best.', retire: 'Retire the candidate; restore the best.', return_to_best: 'Do not promote; return to the best.', pivot_axis: 'Nothing new to promote; pivot to another axis.', needs_more_evidence: 'Hold: more evidence needed before any promotion.' }[j.recommendation] ?? j.recommendation}

## Risks Or Confounds
- Synthetic ${f.dataset.sizes.join(', ')} scenes and a fixed noise seed: results say little about real photographs.
- ${f.paired ? `Validation is small (${f.paired.n} images compared); PSNR means hide per-image losses (see the paired line above).` : `Validation is small (${f.dataset.count} images in data/manifest.json), and no per-image comparison ran this session: a mean can hide per-image losses.`}
${ssimNote(f)}- SSIM uses 8×8 uniform windows; other SSIM variants give other absolute values.

## Recommended Next Action
- \`${j.recommendation}\`: ${j.reason}.
`;
}
