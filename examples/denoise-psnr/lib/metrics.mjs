// Image quality metrics on same-sized arrays of 0–255 samples (any typed or plain array).

const PEAK = 255;
const C1 = (0.01 * PEAK) ** 2;
const C2 = (0.03 * PEAK) ** 2;
/** SSIM window side: 8×8, or the whole image along a side shorter than 8. */
const SSIM_WINDOW = 8;

export function mse(a, b) {
  if (a.length !== b.length || a.length === 0)
    throw new Error(`mse: sizes differ or are empty (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s / a.length;
}

/** Peak signal-to-noise ratio in dB, peak 255; Infinity for identical images. */
export function psnr(a, b) {
  const m = mse(a, b);
  return m === 0 ? Infinity : 10 * Math.log10((PEAK * PEAK) / m);
}

/**
 * Mean SSIM (Wang et al. 2004) over every 8×8 window (stride 1, uniform weights, population
 * statistics), K1 = 0.01, K2 = 0.03, L = 255.
 */
export function ssim(a, b, width, height) {
  if (a.length !== width * height || b.length !== width * height)
    throw new Error(`ssim: expected ${width}×${height} samples`);
  const ww = Math.min(SSIM_WINDOW, width);
  const wh = Math.min(SSIM_WINDOW, height);
  const iw = width + 1;
  const sums = [0, 1, 2, 3, 4].map(() => new Float64Array(iw * (height + 1)));
  const [sa, sb, saa, sbb, sab] = sums;
  for (let y = 0; y < height; y++) {
    const r = [0, 0, 0, 0, 0];
    for (let x = 0; x < width; x++) {
      const u = a[y * width + x];
      const v = b[y * width + x];
      r[0] += u;
      r[1] += v;
      r[2] += u * u;
      r[3] += v * v;
      r[4] += u * v;
      const at = (y + 1) * iw + x + 1;
      for (let k = 0; k < 5; k++) sums[k][at] = sums[k][at - iw] + r[k];
    }
  }
  const box = (s, x, y) => s[(y + wh) * iw + x + ww] - s[y * iw + x + ww] - s[(y + wh) * iw + x] + s[y * iw + x];
  const n = ww * wh;
  let total = 0;
  let count = 0;
  for (let y = 0; y + wh <= height; y++) {
    for (let x = 0; x + ww <= width; x++) {
      const ma = box(sa, x, y) / n;
      const mb = box(sb, x, y) / n;
      const va = box(saa, x, y) / n - ma * ma;
      const vb = box(sbb, x, y) / n - mb * mb;
      const cov = box(sab, x, y) / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      count++;
    }
  }
  return total / count;
}
