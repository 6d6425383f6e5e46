// What the data of a split says about itself, so the agents' reports quote the images and
// data/manifest.json instead of constants that would go stale when the dataset changes.
import { loadSplit, readManifest } from '../lib/evaluate.mjs';

/** Image count, sizes (from the decoded images) and noise σ range (from data/manifest.json) of a split. */
export function describeSplit(root, split, images = loadSplit(root, split)) {
  const sigmas = readManifest(root)
    .images.filter((m) => m.split === split)
    .map((m) => m.sigma);
  const known = sigmas.length > 0 && sigmas.every((s) => typeof s === 'number' && Number.isFinite(s));
  return {
    split,
    count: images.length,
    sizes: [...new Set(images.map((im) => `${im.width}×${im.height}`))],
    sigma: known ? { min: Math.min(...sigmas), max: Math.max(...sigmas) } : null,
  };
}

const range = (lo, hi, digits) => (lo === hi ? lo.toFixed(digits) : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`);

/** `σ 21.28–28.70 in data/manifest.json`, or that the manifest lacks σ for some image of the split. */
export const sigmaText = (facts) =>
  facts.sigma ? `σ ${range(facts.sigma.min, facts.sigma.max, 2)} in data/manifest.json` : 'σ not in data/manifest.json';

/** `σ² 492–865 from data/manifest.json`: the noise variance range, for parameters compared with it. */
export const varianceText = (facts) =>
  facts.sigma
    ? `σ² ${range(facts.sigma.min ** 2, facts.sigma.max ** 2, 0)} from data/manifest.json`
    : 'σ² unknown: σ not in data/manifest.json';
