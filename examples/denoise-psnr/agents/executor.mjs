#!/usr/bin/env node
// Scripted executor of the denoise-psnr loop: one axis per session, a small batch of variants around
// the current denoiser/pipeline.json, scored on the TRAIN split only; the best is written back if it
// beats the current pipeline on train. Every number in its report comes from this run.
import path from 'node:path';
import { evaluatePipeline, loadSplit } from '../lib/evaluate.mjs';
import { describePipeline, readPipeline } from '../lib/pipeline.mjs';
import { AXES, SCHEDULE } from './axes.mjs';
import { describeSplit } from './dataset-facts.mjs';
import { chooseAxis, freshVariants, readBrief, readPreviousState } from './executor-plan.mjs';
import { renderProposal, renderReport } from './executor-report.mjs';
import { agentEnv, isoNow, pad, readDecision, readStdin, writeText } from './loop-files.mjs';

/** Smallest train gain (dB) the executor counts as an improvement worth handing to review. */
const MIN_TRAIN_GAIN = 0.01;
const PIPELINE = 'denoiser/pipeline.json';
const canonical = (p) => JSON.stringify(p.steps);

async function main() {
  const env = agentEnv('EXECUTOR');
  const prompt = await readStdin();
  const startedAt = isoNow();
  const decision = readDecision(env.root, env.session - 1);
  const previous = readPreviousState(env.root, env.session);
  const brief = readBrief(env.root);
  const current = readPipeline(path.join(env.root, PIPELINE));
  const plan = chooseAxis({ session: env.session, previous, decision, brief, current });
  const train = loadSplit(env.root, 'train');
  const base = evaluatePipeline(current, train);
  const candidates = freshVariants(plan.axis, current, plan.round, plan.state.rejected);
  const skipped = AXES[plan.axis].variants(current, plan.round).length - candidates.length;
  const results = candidates.map((v, k) => ({ id: `v${k + 1}`, ...v, score: evaluatePipeline(v.pipeline, train) }));
  const best = results.reduce((a, b) => (b.score.psnr > (a?.score.psnr ?? -Infinity) ? b : a), null);
  const improved = best !== null && best.score.psnr - base.psnr >= MIN_TRAIN_GAIN;
  const written = improved
    ? {
        ...best.pipeline,
        description: `session ${pad(env.session)} (${plan.axis}): ${describePipeline(best.pipeline)}`,
      }
    : null;
  if (written) writeText(env.root, PIPELINE, `${JSON.stringify(written, null, 2)}\n`);

  const nextAxis = improved ? plan.axis : plan.nextAxis;
  const state = {
    ...plan.state,
    session: env.session,
    axis: plan.axis,
    round: plan.round,
    exhausted: improved ? plan.state.exhausted : [...new Set([...plan.state.exhausted, plan.axis])],
    written: written ? canonical(written) : null,
    train_psnr_before: base.psnr,
    train_psnr_after: improved ? best.score.psnr : base.psnr,
  };
  writeText(env.root, `${env.sessionDir}/executor_state.json`, `${JSON.stringify(state, null, 2)}\n`);
  const trainFacts = describeSplit(env.root, 'train', train);
  const context = {
    env,
    plan,
    trainFacts,
    decision,
    current,
    base,
    results,
    skipped,
    best,
    improved,
    written,
    nextAxis,
    prompt,
    startedAt,
    finishedAt: isoNow(),
    schedule: SCHEDULE,
  };
  writeText(env.root, `${env.sessionDir}/executor_proposal.md`, renderProposal(context));
  writeText(env.root, env.output, renderReport(context));
}

main().catch((err) => {
  process.stderr.write(`executor: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
