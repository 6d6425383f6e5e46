#!/usr/bin/env node
// Scripted reviewer of the denoise-psnr loop. It trusts nothing it did not recompute: it checks the
// evaluator's hashes, re-runs `node eval.mjs` on validation and train for the candidate and the
// previous best, compares with metrics.json and the executor's report, and may disagree.
import fs from 'node:fs';
import path from 'node:path';
import { readPipeline } from '../lib/pipeline.mjs';
import { describeSplit } from './dataset-facts.mjs';
import { checkEvaluator, checkEvidencePngs, errorProfile, pairedDiff, runEval } from './reviewer-checks.mjs';
import { judge, renderReview } from './reviewer-report.mjs';
import {
  agentEnv,
  criterionHolds,
  parseHeader,
  readFrame,
  readJson,
  readLeaderboard,
  readStdin,
  readText,
  snapshotPath,
  writeText,
} from './loop-files.mjs';

/** Largest difference (dB) tolerated between this reviewer's re-run and another party's number. */
const TOLERANCE = 0.01;

function previousBest(root) {
  const last = readLeaderboard(root).at(-1);
  if (!last || last.best_session === '' || last.best_value === '') return null;
  const session = Number(last.best_session);
  const pipeline = snapshotPath(session, 'denoiser/pipeline.json');
  return {
    session,
    value: Number(last.best_value),
    pipeline: fs.existsSync(path.join(root, pipeline)) ? pipeline : null,
    rows: readLeaderboard(root),
  };
}

async function main() {
  const env = agentEnv('REVIEWER');
  await readStdin();
  const { root, sessionDir } = env;
  const frame = readFrame(root);
  const integrity = checkEvaluator(root, env.agent, env.session);
  const best = previousBest(root);
  // The evaluator runs in child processes (the second core) while the in-process checks below run.
  const reruns = Promise.all([
    runEval(root, ['--per-image']),
    runEval(root, ['--split', 'train', '--per-image']),
    best?.pipeline ? runEval(root, ['--split', 'train', '--per-image', '--pipeline', best.pipeline]) : null,
  ]);
  const metricsJson = readJson(root, `${sessionDir}/metrics.json`);
  const reportText = readText(root, `${sessionDir}/executor_report.md`) ?? '';
  const claimed = /Written pipeline: [^\n]*?train PSNR ([\d.]+) dB/.exec(reportText);
  let candidate = null;
  let candidateError = null;
  try {
    candidate = readPipeline(path.join(root, 'denoiser/pipeline.json'));
  } catch (err) {
    candidateError = err.message.split('\n')[0];
  }
  const bestPipeline = best?.pipeline ? readPipeline(path.join(root, best.pipeline)) : null;
  const profile = candidate ? errorProfile(root, candidate) : null;
  const bestProfile = bestPipeline ? errorProfile(root, bestPipeline) : null;
  const bestVal = bestProfile
    ? { ok: true, command: `in-process lib/evaluate.mjs on ${best.pipeline}`, result: bestProfile.metrics }
    : null;
  const [val, train, bestTrain] = await reruns;
  const evidence = checkEvidencePngs(
    root,
    [process.env.LOOP_STATION_EVIDENCE_DIR, `${sessionDir}/evidence`],
    profile?.outputs ?? [],
  );

  const facts = {
    env,
    frame,
    integrity,
    best,
    val,
    train,
    bestVal,
    bestTrain,
    metricsJson,
    report: {
      found: reportText !== '',
      header: parseHeader(reportText),
      claimedTrain: claimed ? Number(claimed[1]) : null,
    },
    unchanged:
      bestPipeline !== null &&
      candidate !== null &&
      JSON.stringify(bestPipeline.steps) === JSON.stringify(candidate.steps),
    candidate,
    candidateError,
    bestPipeline,
    profile,
    bestProfile,
    evidence,
    tolerance: TOLERANCE,
    dataset: describeSplit(root, 'validation'),
    protection: val.ok
      ? frame.protection.map((c) => ({
          ...c,
          actual: val.result[c.metric],
          pass: criterionHolds(c, val.result[c.metric]),
        }))
      : [],
    paired: val.ok && bestVal?.ok ? pairedDiff(val.result, bestVal.result) : null,
    pairedTrain: train.ok && bestTrain?.ok ? pairedDiff(train.result, bestTrain.result) : null,
  };
  writeText(root, env.output, renderReview(facts, judge(facts)));
}

main().catch((err) => {
  process.stderr.write(`reviewer: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
