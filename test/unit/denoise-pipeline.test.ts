import { describe, expect, test } from 'vitest';
import { DATASET, KINDS, generateDataset } from '../../examples/denoise-psnr/lib/dataset.mjs';
import { fromBytes, toBytes } from '../../examples/denoise-psnr/lib/image.mjs';
import { psnr } from '../../examples/denoise-psnr/lib/metrics.mjs';
import {
  describePipeline,
  pipelineProblems,
  runPipeline,
  type Pipeline,
} from '../../examples/denoise-psnr/lib/pipeline.mjs';

const dataset = generateDataset();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('pipelineProblems', () => {
  test('accepts every op with its parameters, and blend', () => {
    expect(
      pipelineProblems({
        steps: [
          { op: 'gaussian', sigma: 1 },
          { op: 'median', radius: 1 },
          { op: 'bilateral', radius: 3, sigmaSpatial: 2, sigmaRange: 60 },
          { op: 'nlm', patch: 1, search: 5, h: 20, sigma: 25 },
          { op: 'wiener', radius: 2 },
          { op: 'guided', radius: 2, eps: 2000 },
          { op: 'unsharp', sigma: 1, amount: 0.2, blend: 0.5 },
        ],
      }),
    ).toEqual([]);
  });

  test('names each problem with its path', () => {
    expect(
      pipelineProblems({
        steps: [
          { op: 'blur' },
          { op: 'nlm', patch: 1.5, search: 5, h: 0, extra: true },
          { op: 'median', radius: 1, blend: 2 },
        ],
      }),
    ).toEqual([
      'steps[0].op: must be one of gaussian, median, bilateral, nlm, wiener, guided, unsharp (got "blur")',
      'steps[1].patch: must be an integer from 0 to 4 (got 1.5)',
      'steps[1].h: must be a number from 1 to 255 (got 0)',
      'steps[1].extra: unknown parameter for nlm (known: op, blend, patch, search, h, sigma)',
      'steps[2].blend: must be a number from 0 to 1 (got 2)',
    ]);
    expect(pipelineProblems({ steps: [{ op: 'gaussian' }] })).toEqual(['steps[0].sigma: is required (number 0.1–10)']);
    expect(pipelineProblems([])).toEqual(['steps: must be an array of filter steps']);
  });
});

describe('runPipeline', () => {
  const image = dataset.find((im) => im.kind === 'shapes')!;
  const noisy = fromBytes(image.width, image.height, image.noisy);

  test('with no steps returns the input', () => {
    expect(toBytes(runPipeline({ steps: [] }, noisy))).toEqual(image.noisy);
  });

  test('keeps a flat image flat through every filter', () => {
    const flat = fromBytes(16, 16, new Uint8Array(256).fill(90));
    const all: Pipeline = {
      steps: [
        { op: 'gaussian', sigma: 1.5 },
        { op: 'median', radius: 2 },
        { op: 'bilateral', radius: 2, sigmaSpatial: 1, sigmaRange: 30 },
        { op: 'nlm', patch: 1, search: 3, h: 10 },
        { op: 'wiener', radius: 1 },
        { op: 'guided', radius: 2, eps: 100 },
        { op: 'unsharp', sigma: 1, amount: 1 },
      ],
    };
    expect(toBytes(runPipeline(all, flat))).toEqual(new Uint8Array(256).fill(90));
  });

  test('blend 1 gives the step input back unchanged', () => {
    expect(toBytes(runPipeline({ steps: [{ op: 'gaussian', sigma: 2, blend: 1 }] }, noisy))).toEqual(image.noisy);
  });

  test('non-local means gains more than 5 dB over the noisy image', () => {
    const out = toBytes(runPipeline({ steps: [{ op: 'nlm', patch: 1, search: 5, h: 25, sigma: 25 }] }, noisy));
    expect(psnr(out, image.clean) - psnr(image.noisy, image.clean)).toBeGreaterThan(5);
  });

  test('describes itself in one line', () => {
    expect(
      describePipeline({
        steps: [
          { op: 'nlm', patch: 1, search: 5, h: 30 },
          { op: 'gaussian', sigma: 0.5 },
        ],
      }),
    ).toBe('nlm(patch=1,search=5,h=30) → gaussian(sigma=0.5)');
    expect(describePipeline({ steps: [] })).toBe('identity');
  });
});

describe('generateDataset', () => {
  test('is deterministic', () => {
    const again = generateDataset();
    expect(again.map((im) => [im.name, im.split, im.sigma])).toEqual(
      dataset.map((im) => [im.name, im.split, im.sigma]),
    );
    expect(again.every((im, i) => Buffer.from(im.noisy).equals(Buffer.from(dataset[i]!.noisy)))).toBe(true);
  });

  test('splits 12/12 with every kind on both sides', () => {
    const train = dataset.filter((im) => im.split === 'train');
    expect(train).toHaveLength(DATASET.count / 2);
    for (const kind of KINDS) {
      expect(new Set(dataset.filter((im) => im.kind === kind).map((im) => im.split))).toEqual(
        new Set(['train', 'validation']),
      );
    }
  });

  test('adds noise of sigma 20–30, about 20 dB PSNR', () => {
    expect(dataset.every((im) => im.sigma >= 20 && im.sigma <= 30)).toBe(true);
    const noisyPsnr = mean(dataset.map((im) => psnr(im.noisy, im.clean)));
    expect(noisyPsnr).toBeGreaterThan(19);
    expect(noisyPsnr).toBeLessThan(21);
  });
});
