// Non-local means (Buades, Coll & Morel 2005), computed per search offset with running box sums,
// so the cost grows with the search window but hardly with the patch size.
import { createImage, padImage } from './image.mjs';

/**
 * `patch` and `search` are radii; a pixel's weight for a neighbour is
 * exp(-max(d² - 2·sigma², 0) / h²), d² the mean squared difference of the two patches.
 */
export function nonLocalMeans(image, { patch, search, h, sigma = 0 }) {
  const { width: w, height: ht } = image;
  const pad = patch + search;
  const p = padImage(image, pad);
  const pw = p.width;
  const src = p.data;
  const rw = w + 2 * patch;
  const rh = ht + 2 * patch;
  const n = (2 * patch + 1) ** 2;
  const bias = 2 * sigma * sigma;
  const invH2 = 1 / (h * h);
  const diff = new Float32Array(rw * rh);
  const rows = new Float32Array(w * rh);
  const num = new Float64Array(w * ht);
  const den = new Float64Array(w * ht);
  for (let dy = -search; dy <= search; dy++) {
    for (let dx = -search; dx <= search; dx++) {
      // Squared differences over the region that the patches of all output pixels cover.
      for (let y = 0; y < rh; y++) {
        const a = (search + y) * pw + search;
        const b = a + dy * pw + dx;
        for (let x = 0; x < rw; x++) {
          const t = src[a + x] - src[b + x];
          diff[y * rw + x] = t * t;
        }
      }
      // Horizontal then vertical running sums of width 2·patch+1.
      for (let y = 0; y < rh; y++) {
        let s = 0;
        const base = y * rw;
        for (let x = 0; x < 2 * patch; x++) s += diff[base + x];
        for (let x = 0; x < w; x++) {
          s += diff[base + x + 2 * patch];
          rows[y * w + x] = s;
          s -= diff[base + x];
        }
      }
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let y = 0; y < 2 * patch; y++) s += rows[y * w + x];
        for (let y = 0; y < ht; y++) {
          s += rows[(y + 2 * patch) * w + x];
          const d2 = s / n - bias;
          const wgt = d2 > 0 ? Math.exp(-d2 * invH2) : 1;
          const i = y * w + x;
          num[i] += wgt * src[(y + pad + dy) * pw + x + pad + dx];
          den[i] += wgt;
          s -= rows[y * w + x];
        }
      }
    }
  }
  const out = new Float32Array(w * ht);
  for (let i = 0; i < out.length; i++) out[i] = num[i] / den[i];
  return createImage(w, ht, out);
}
