// Denoising filters. Each takes an image and a parameter object and returns a new image.
import { boxMean, convolveSeparable, createImage, mapImages, padImage } from './image.mjs';
import { nonLocalMeans } from './nlm.mjs';

function gaussianKernel(sigma) {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / sum);
}

export function gaussian(image, { sigma }) {
  return convolveSeparable(image, gaussianKernel(sigma));
}

export function median(image, { radius }) {
  const { width: w, height: h } = image;
  const p = padImage(image, radius);
  const d = 2 * radius + 1;
  const window = new Float32Array(d * d);
  const mid = (d * d - 1) / 2;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let k = 0;
      for (let j = 0; j < d; j++) for (let i = 0; i < d; i++) window[k++] = p.data[(y + j) * p.width + x + i];
      window.sort();
      out[y * w + x] = window[mid];
    }
  }
  return createImage(w, h, out);
}

/** Tomasi & Manduchi (1998): weights fall with distance and with difference in intensity. */
export function bilateral(image, { radius, sigmaSpatial, sigmaRange }) {
  const { width: w, height: h } = image;
  const p = padImage(image, radius);
  const d = 2 * radius + 1;
  const spatial = new Float64Array(d * d);
  for (let j = -radius; j <= radius; j++) {
    for (let i = -radius; i <= radius; i++)
      spatial[(j + radius) * d + i + radius] = Math.exp(-(i * i + j * j) / (2 * sigmaSpatial * sigmaSpatial));
  }
  // Range weights tabulated at quarter-level steps: exp() per neighbour would dominate the run time.
  const range = new Float64Array(4 * 256 + 1);
  for (let i = 0; i < range.length; i++) range[i] = Math.exp(-((i / 4) ** 2) / (2 * sigmaRange * sigmaRange));
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = p.data[(y + radius) * p.width + x + radius];
      let num = 0;
      let den = 0;
      for (let j = 0; j < d; j++) {
        const row = (y + j) * p.width + x;
        for (let i = 0; i < d; i++) {
          const v = p.data[row + i];
          const wgt = spatial[j * d + i] * range[Math.min(1024, Math.round(Math.abs(v - c) * 4))];
          num += wgt * v;
          den += wgt;
        }
      }
      out[y * w + x] = num / den;
    }
  }
  return createImage(w, h, out);
}

/** Local adaptive Wiener filter (Lee 1980); `noise` is the noise variance, estimated when absent. */
export function wiener(image, { radius, noise }) {
  const mean = boxMean(image, radius);
  const meanSq = boxMean(
    mapImages([image], (v) => v * v),
    radius,
  );
  const variance = mapImages([meanSq, mean], (m2, m) => Math.max(0, m2 - m * m));
  const n = noise ?? variance.data.reduce((a, b) => a + b, 0) / variance.data.length;
  return mapImages([image, mean, variance], (v, m, s2) => m + (Math.max(0, s2 - n) / Math.max(s2, n, 1e-9)) * (v - m));
}

/** He, Sun & Tang (2010) guided filter with the image as its own guide; `eps` in intensity² units. */
export function guided(image, { radius, eps }) {
  const mean = boxMean(image, radius);
  const meanSq = boxMean(
    mapImages([image], (v) => v * v),
    radius,
  );
  const a = mapImages([meanSq, mean], (m2, m) => {
    const s2 = Math.max(0, m2 - m * m);
    return s2 / (s2 + eps);
  });
  const b = mapImages([a, mean], (av, m) => (1 - av) * m);
  const meanA = boxMean(a, radius);
  const meanB = boxMean(b, radius);
  return mapImages([image, meanA, meanB], (v, av, bv) => av * v + bv);
}

export function unsharp(image, { sigma, amount }) {
  const blurred = gaussian(image, { sigma });
  return mapImages([image, blurred], (v, b) => v + amount * (v - b));
}

const num = (min, max, optional = false) => ({ kind: 'number', min, max, optional });
const int = (min, max) => ({ kind: 'integer', min, max, optional: false });

/** Every step op with its parameters; any step may also carry `blend` (0–1), mixing back its input. */
export const FILTERS = {
  gaussian: { run: gaussian, params: { sigma: num(0.1, 10) } },
  median: { run: median, params: { radius: int(1, 3) } },
  bilateral: { run: bilateral, params: { radius: int(1, 7), sigmaSpatial: num(0.1, 10), sigmaRange: num(1, 255) } },
  nlm: {
    run: nonLocalMeans,
    params: { patch: int(0, 4), search: int(1, 12), h: num(1, 255), sigma: num(0, 100, true) },
  },
  wiener: { run: wiener, params: { radius: int(1, 5), noise: num(0, 10000, true) } },
  guided: { run: guided, params: { radius: int(1, 8), eps: num(1, 100000) } },
  unsharp: { run: unsharp, params: { sigma: num(0.1, 10), amount: num(0, 3) } },
};
