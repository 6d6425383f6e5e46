import { describe, expect, test } from 'vitest';
import { mse, psnr, ssim } from '../../examples/denoise-psnr/lib/metrics.mjs';

// Constants of SSIM for 8-bit images: C1 = (0.01·255)², C2 = (0.03·255)².
const C1 = 6.5025;
const C2 = 58.5225;

describe('psnr', () => {
  test('is Infinity for identical images', () => {
    expect(psnr([1, 2, 3, 4], [1, 2, 3, 4])).toBe(Infinity);
  });

  test('of a constant offset of 10 on 2×2 is 10·log10(255²/100)', () => {
    // MSE = 100, so PSNR = 10·log10(65025 / 100) = 28.13080… dB.
    expect(psnr([0, 0, 0, 0], [10, 10, 10, 10])).toBeCloseTo(28.130803608679106, 12);
  });

  test('of one pixel off by 100 on 2×2 is 10·log10(255²/2500)', () => {
    expect(mse([0, 50, 100, 150], [0, 50, 100, 250])).toBe(2500);
    expect(psnr([0, 50, 100, 150], [0, 50, 100, 250])).toBeCloseTo(10 * Math.log10(26.01), 12);
  });

  test('refuses images of different sizes', () => {
    expect(() => psnr([1, 2], [1, 2, 3])).toThrow('mse: sizes differ or are empty (2 vs 3)');
  });
});

describe('ssim', () => {
  test('is 1 for identical images, flat or not', () => {
    expect(ssim([7, 7, 7, 7], [7, 7, 7, 7], 2, 2)).toBe(1);
    const img = Array.from({ length: 100 }, (_, i) => (i * 37) % 256);
    expect(ssim(img, img, 10, 10)).toBe(1);
  });

  test('of flat 100 against flat 110 is the luminance term alone', () => {
    // Means 100 and 110, no variance: (2·100·110 + C1) / (100² + 110² + C1).
    expect(ssim([100, 100, 100, 100], [110, 110, 110, 110], 2, 2)).toBeCloseTo((22000 + C1) / (22100 + C1), 12);
  });

  test('of a 2×2 pair matches the formula on the whole image (window smaller than 8×8)', () => {
    // a = 0 50 100 150: mean 75, variance 3125. b = 0 50 100 250: mean 100, variance 8750.
    // Covariance = ((-75)(-100) + (-25)(-50) + (25)(0) + (75)(150)) / 4 = 5000.
    const expected = ((2 * 75 * 100 + C1) * (2 * 5000 + C2)) / ((75 ** 2 + 100 ** 2 + C1) * (3125 + 8750 + C2));
    expect(ssim([0, 50, 100, 150], [0, 50, 100, 250], 2, 2)).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.80917842728, 10);
  });

  test('averages the 8×8 windows of a larger image', () => {
    // 9×8 image: two windows (x = 0 and x = 1). b differs from a only in the last column, which
    // only the second window sees, so the mean is (1 + s) / 2 with s that window's SSIM.
    const a = Array.from({ length: 72 }, (_, i) => 10 * (i % 9));
    const b = a.map((v, i) => (i % 9 === 8 ? v + 40 : v));
    const second = ssim(
      a.filter((_, i) => i % 9 >= 1),
      b.filter((_, i) => i % 9 >= 1),
      8,
      8,
    );
    expect(second).toBeLessThan(1);
    expect(ssim(a, b, 9, 8)).toBeCloseTo((1 + second) / 2, 12);
  });

  test('refuses a size that does not match the sample count', () => {
    expect(() => ssim([1, 2, 3], [1, 2, 3], 2, 2)).toThrow('ssim: expected 2×2 samples');
  });
});
