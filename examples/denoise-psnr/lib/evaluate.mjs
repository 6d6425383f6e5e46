// Loads a split of the dataset from a loop root and scores a pipeline on it.
import fs from 'node:fs';
import path from 'node:path';
import { decodePgm, fromBytes, toBytes } from './image.mjs';
import { psnr, ssim } from './metrics.mjs';
import { runPipeline } from './pipeline.mjs';

export const SPLITS = ['train', 'validation'];

export function readManifest(root) {
  const file = path.join(root, 'data', 'manifest.json');
  if (!fs.existsSync(file))
    throw new Error(
      `${file}: missing\n  fix: run \`node examples/denoise-psnr/setup.mjs ${root}\` to generate the dataset`,
    );
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The images of one split: `{ name, kind, width, height, clean, noisy }` with Uint8Array samples. */
export function loadSplit(root, split) {
  if (!SPLITS.includes(split)) throw new Error(`split must be one of ${SPLITS.join(', ')} (got ${split})`);
  return readManifest(root)
    .images.filter((m) => m.split === split)
    .map((m) => {
      const read = (version) => decodePgm(fs.readFileSync(path.join(root, 'data', split, version, `${m.name}.pgm`)));
      const clean = read('clean');
      return {
        name: m.name,
        kind: m.kind,
        width: clean.width,
        height: clean.height,
        clean: clean.bytes,
        noisy: read('noisy').bytes,
      };
    });
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const round = (v, digits) => Number(v.toFixed(digits));

/** Runs the pipeline on every noisy image; means of PSNR and SSIM against the clean ones. */
export function evaluatePipeline(pipeline, images) {
  const started = performance.now();
  const perImage = images.map((im) => {
    const denoised = toBytes(runPipeline(pipeline, fromBytes(im.width, im.height, im.noisy)));
    return {
      name: im.name,
      denoised,
      psnr: psnr(denoised, im.clean),
      ssim: ssim(denoised, im.clean, im.width, im.height),
      noisy_psnr: psnr(im.noisy, im.clean),
    };
  });
  const ms = performance.now() - started;
  return {
    psnr: round(mean(perImage.map((r) => r.psnr)), 4),
    ssim: round(mean(perImage.map((r) => r.ssim)), 4),
    ms: Math.round(ms),
    noisy_psnr: round(mean(perImage.map((r) => r.noisy_psnr)), 4),
    perImage,
  };
}
