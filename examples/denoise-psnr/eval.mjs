#!/usr/bin/env node
// Protected evaluator of the denoise-psnr loop: runs denoiser/pipeline.json on a split and prints
// ONE JSON line {"psnr","ssim","ms","noisy_psnr"} (means over the split's images) on stdout.
//
//   node eval.mjs [--split train|validation] [--pipeline <file>] [--per-image]
//
// With LOOP_STATION_EVIDENCE_DIR set, it also writes noisy/denoised/clean PNGs of one fixed image there.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluatePipeline, loadSplit, SPLITS } from './lib/evaluate.mjs';
import { evidenceImageIndex, writeEvidence } from './lib/evidence.mjs';
import { readPipeline } from './lib/pipeline.mjs';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const USAGE = 'usage: node eval.mjs [--split train|validation] [--pipeline <file>] [--per-image]';

function parseArgs(argv) {
  const options = { split: 'validation', pipeline: path.join(ROOT, 'denoiser', 'pipeline.json'), perImage: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--per-image') options.perImage = true;
    else if ((arg === '--split' || arg === '--pipeline') && argv[i + 1] !== undefined)
      options[arg.slice(2)] = argv[++i];
    else return { error: `unknown or incomplete argument ${JSON.stringify(arg)}` };
  }
  if (!SPLITS.includes(options.split))
    return { error: `--split must be one of ${SPLITS.join(', ')} (got ${options.split})` };
  return { options };
}

function main() {
  const { options, error } = parseArgs(process.argv.slice(2));
  if (error) {
    process.stderr.write(`eval.mjs: ${error}\n${USAGE}\n`);
    return 2;
  }
  const pipeline = readPipeline(options.pipeline);
  const images = loadSplit(ROOT, options.split);
  const result = evaluatePipeline(pipeline, images);
  const { perImage, ...metrics } = result;
  const line = options.perImage
    ? {
        ...metrics,
        per_image: perImage.map((r) => ({
          name: r.name,
          psnr: Number(r.psnr.toFixed(4)),
          ssim: Number(r.ssim.toFixed(4)),
        })),
      }
    : metrics;
  const evidenceDir = process.env.LOOP_STATION_EVIDENCE_DIR;
  if (evidenceDir) {
    const k = evidenceImageIndex(images);
    writeEvidence(path.resolve(evidenceDir), {
      image: images[k],
      denoised: perImage[k].denoised,
      split: options.split,
      pipeline,
      psnr: Number(perImage[k].psnr.toFixed(4)),
    });
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`eval.mjs: ${err.message}\n`);
  process.exitCode = 1;
}
