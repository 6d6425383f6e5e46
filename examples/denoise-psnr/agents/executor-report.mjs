// executor_report.md and executor_proposal.md (docs/protocol.md#layout), from the numbers of this run only.
import { describePipeline } from '../lib/pipeline.mjs';
import { AXES } from './axes.mjs';
import { sigmaText } from './dataset-facts.mjs';
import { fmt, pad, signed } from './loop-files.mjs';

const wins = (before, after) => after.perImage.filter((r, i) => r.psnr > before.perImage[i].psnr).length;

function variantsTable({ results, base, best, improved }) {
  const rows = results.map((r) => {
    const mark = improved && r === best ? ' **written**' : '';
    return `| ${r.id}${mark} | ${r.change} | ${fmt(r.score.psnr)} | ${signed(r.score.psnr - base.psnr)} | ${fmt(r.score.ssim)} | ${wins(base, r.score)}/${base.perImage.length} | ${r.score.ms} |`;
  });
  return [
    '| variant | change | train PSNR (dB) | Δ vs current | train SSIM | images improved | ms |',
    '|---|---|---|---|---|---|---|',
    `| current | as found in denoiser/pipeline.json | ${fmt(base.psnr)} | — | ${fmt(base.ssim)} | — | ${base.ms} |`,
    ...rows,
  ].join('\n');
}

function perImageTable({ base, best, improved }) {
  if (!improved) return '- No pipeline written, so no per-image comparison.';
  return [
    '| train image | current PSNR | written PSNR | Δ |',
    '|---|---|---|---|',
    ...base.perImage.map(
      (r, i) =>
        `| ${r.name} | ${fmt(r.psnr, 3)} | ${fmt(best.score.perImage[i].psnr, 3)} | ${signed(best.score.perImage[i].psnr - r.psnr)} |`,
    ),
  ].join('\n');
}

function interpretation(c) {
  const { base, best, improved, plan, results } = c;
  if (results.length === 0)
    return `Axis ${plan.axis} had no untried variant for this pipeline (all were proposed before and not promoted). I kept the pipeline and move on to ${c.nextAxis}.`;
  if (!improved) {
    return (
      `No ${plan.axis} variant beat the current pipeline on train (best: ${best.id}, ${signed(best.score.psnr - base.psnr)} dB). ` +
      `I kept the pipeline unchanged, count ${plan.axis} as exhausted for now, and propose ${c.nextAxis} next. Expect the evaluator to reproduce the current value (a keep).`
    );
  }
  const gain = best.score.psnr - base.psnr;
  const n = wins(base, best.score);
  const spread =
    gain < 0.1
      ? "The gain is small: it may not survive on validation, and may fall under the loop's minDelta."
      : 'The gain is large enough that validation should show it too, unless train and validation scenes react differently.';
  return (
    `${best.id} (${best.change}) raised train PSNR by ${signed(gain)} dB and improved ${n} of ${base.perImage.length} train images; SSIM ${fmt(base.ssim)} → ${fmt(best.score.ssim)}. ` +
    `${spread} Only train was used to choose: the validation number is the reviewer's and the evaluator's to give.`
  );
}

export function renderReport(c) {
  const { env, plan, decision, current, base, results, best, improved, written } = c;
  const totalMs = base.ms + results.reduce((s, r) => s + r.score.ms, 0);
  const losers = results.filter((r) => r.score.psnr < base.psnr);
  const chosen = improved
    ? `- Written pipeline: ${best.id}, train PSNR ${fmt(best.score.psnr)} dB, train SSIM ${fmt(best.score.ssim)} (current was ${fmt(base.psnr)} dB, ${fmt(base.ssim)}).`
    : `- Written pipeline: unchanged (current kept), train PSNR ${fmt(base.psnr)} dB, train SSIM ${fmt(base.ssim)}.`;
  return `agent: ${env.agent}
session: ${pad(env.session)}
status: DONE
axis: ${plan.axis}
started_at: ${c.startedAt}
finished_at: ${c.finishedAt}

# Executor Report — session ${pad(env.session)}

## What Ran
- Axis \`${plan.axis}\` (round ${plan.round + 1}): ${AXES[plan.axis].about}.
- Why: ${plan.reasons.join('; ')}.
- Previous decision: ${decision ? `\`${decision.class}\` on axis \`${decision.axis}\` (best ${decision.best_value} from session ${decision.best_session})` : 'none (first session)'}.
- Scored the current pipeline and ${results.length} variant(s) on the **train** split (${base.perImage.length} images, ${c.trainFacts.sizes.join(', ')}; Gaussian noise, ${sigmaText(c.trainFacts)}) with lib/evaluate.mjs, the code eval.mjs runs. The validation split was not used.
- Prompt: ${c.prompt.length} characters on stdin, read but not interpreted (a scripted executor follows its schedule: ${c.schedule.join(', ')}).
- Pipeline run time over all variants: ${totalMs} ms.

## Changed Values
${improved ? `- \`denoiser/pipeline.json\`: ${best.change} (from ${best.id}).\n- Now: \`${describePipeline(written)}\` (was \`${describePipeline(current)}\`).` : `- None: no variant beat the current pipeline on train by 0.01 dB or more; \`denoiser/pipeline.json\` is unchanged (\`${describePipeline(current)}\`).`}

## Implementation Variants
${results.length === 0 ? '- None left to try on this axis.' : results.map((r) => `- ${r.id}: ${r.change}\n  \`${JSON.stringify(r.pipeline.steps)}\``).join('\n')}

## Results
${chosen}

${variantsTable(c)}

## Evidence
- Reproduce the written pipeline on train: \`node eval.mjs --split train --pipeline denoiser/pipeline.json\` (prints one JSON line; add \`--per-image\` for the rows below).
- Per-image train PSNR:

${perImageTable(c)}

- Executor memory: \`${env.sessionDir}/executor_state.json\` (axis rounds, exhausted and retired axes, rejected candidates).

## Failures Or Surprises
${results.length === 0 ? '- Every variant of this axis had been proposed before and rejected.' : losers.length === 0 ? '- No variant lost against the current pipeline on train.' : `- ${losers.length} of ${results.length} variants lost on train: ${losers.map((r) => `${r.id} (${signed(r.score.psnr - base.psnr)} dB)`).join(', ')}.`}
${c.skipped > 0 ? `- Left out ${c.skipped} variant(s) of this axis: proposed in an earlier session and not promoted.` : ''}

## Executor Interpretation
${interpretation(c)}
`;
}

export function renderProposal(c) {
  const { env, plan, improved, best, base, results, nextAxis } = c;
  const losers = results.filter((r) => !improved || r !== best);
  return `agent: ${env.agent}
session: ${pad(env.session)}
proposed_next_session: ${pad(env.session + 1)}
proposed_axis: ${nextAxis}

# Executor Proposal — session ${pad(env.session)}

## Summary
${improved ? `On \`${plan.axis}\`, ${best.id} (${best.change}) moved train PSNR ${fmt(base.psnr)} → ${fmt(best.score.psnr)} dB. It is now denoiser/pipeline.json.` : `On \`${plan.axis}\`, nothing beat the current pipeline on train (${fmt(base.psnr)} dB); the workspace is unchanged.`}

## Promote
${improved ? `- ${best.id}: promote if validation PSNR also beats the best by minDelta.` : '- Nothing.'}

## Keep
${improved ? '- The previous pipeline stays the fallback (the engine restores the best if this is not promoted).' : '- The current pipeline.'}

## Retire
${losers.length > 0 ? losers.map((r) => `- ${r.id}: ${r.change} (${signed(r.score.psnr - base.psnr)} dB on train).`).join('\n') : '- Nothing.'}${improved ? '' : `\n- Axis \`${plan.axis}\` for now (no train gain).`}

## Proposed Next Action
- Session ${pad(env.session + 1)}: ${improved ? `stay on \`${plan.axis}\` with finer steps if this is promoted; otherwise the engine decides (plateau or pivot).` : `move to \`${nextAxis}\`.`}

## Reviewer Requests
- Re-run \`node eval.mjs\` (validation) and \`node eval.mjs --split train\` and compare with the tables above.
- Check whether the train gain holds on validation image by image, not only on the mean.
`;
}
