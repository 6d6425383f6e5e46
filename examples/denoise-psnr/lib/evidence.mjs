// Image evidence for reviewers and reports: one fixed image of the split as noisy, denoised and clean PNGs.
import fs from 'node:fs';
import path from 'node:path';
import { encodePng } from './png.mjs';

/** The image shown as evidence: the split's first `mixture` scene (edges, texture and gradient at once). */
export function evidenceImageIndex(images) {
  return Math.max(
    0,
    images.findIndex((im) => im.kind === 'mixture'),
  );
}

/** Three panels side by side, each scaled 2× (nearest neighbour), separated by white gaps. */
function strip(panels, width, height, scale = 2, gap = 4) {
  const sw = panels.length * width * scale + (panels.length - 1) * gap;
  const sh = height * scale;
  const out = new Uint8Array(sw * sh).fill(255);
  panels.forEach((bytes, k) => {
    const x0 = k * (width * scale + gap);
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < width * scale; x++)
        out[y * sw + x0 + x] = bytes[Math.floor(y / scale) * width + Math.floor(x / scale)];
    }
  });
  return { width: sw, height: sh, bytes: out };
}

/** Writes noisy.png, denoised.png, clean.png, strip.png and evidence.json into `dir` (created). */
export function writeEvidence(dir, { image, denoised, split, pipeline, psnr }) {
  fs.mkdirSync(dir, { recursive: true });
  const { width, height } = image;
  const files = { 'noisy.png': image.noisy, 'denoised.png': denoised, 'clean.png': image.clean };
  for (const [name, bytes] of Object.entries(files))
    fs.writeFileSync(path.join(dir, name), encodePng(width, height, bytes));
  const s = strip([image.noisy, denoised, image.clean], width, height);
  fs.writeFileSync(path.join(dir, 'strip.png'), encodePng(s.width, s.height, s.bytes));
  const meta = {
    image: image.name,
    split,
    width,
    height,
    panels: ['noisy', 'denoised', 'clean'],
    psnr_denoised: psnr,
    pipeline,
  };
  fs.writeFileSync(path.join(dir, 'evidence.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return [...Object.keys(files), 'strip.png', 'evidence.json'].map((f) => path.join(dir, f));
}
