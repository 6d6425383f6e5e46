// The scripted executor's search space: axes in a fixed order (classic filters, then non-local means
// and its refinements, then post-processing and alternatives), each a generator of a few variants
// around the current pipeline. `round` counts the sessions already spent on the axis: steps shrink.

const SMOOTHERS = new Set(['gaussian', 'median', 'bilateral', 'nlm', 'wiener', 'guided']);
const r3 = (v) => Number(v.toPrecision(3));
const at = (list, round) => list[Math.max(0, Math.min(round, list.length - 1))];

/** Index of the main smoothing step (the first one), or -1. */
function mainIndex(pipeline) {
  return pipeline.steps.findIndex((s) => SMOOTHERS.has(s.op));
}

function replaceStep(pipeline, index, step) {
  return { ...pipeline, steps: pipeline.steps.map((s, i) => (i === index ? step : s)) };
}

function insertStep(pipeline, index, step) {
  const steps = [...pipeline.steps];
  steps.splice(index, 0, step);
  return { ...pipeline, steps };
}

function removeStep(pipeline, index) {
  return { ...pipeline, steps: pipeline.steps.filter((_, i) => i !== index) };
}

const variant = (change, pipeline) => ({ change, pipeline });

/** Scales one numeric parameter of one step by each factor. */
function scaled(pipeline, index, param, factors, bounds = [0.1, 255]) {
  const step = pipeline.steps[index];
  return factors.map((f) => {
    const value = Math.min(bounds[1], Math.max(bounds[0], r3(step[param] * f)));
    return variant(
      `steps[${index}].${param}: ${step[param]} → ${value}`,
      replaceStep(pipeline, index, { ...step, [param]: value }),
    );
  });
}

function replaceMain(pipeline, steps, label) {
  const i = mainIndex(pipeline);
  return steps.map((step) =>
    variant(`steps[${i}]: ${pipeline.steps[i].op} → ${label(step)}`, replaceStep(pipeline, i, step)),
  );
}

export const AXES = {
  gaussian_sigma: {
    about: 'width of the Gaussian blur',
    variants(p, round) {
      const i = mainIndex(p);
      if (i < 0 || p.steps[i].op !== 'gaussian') return [];
      return scaled(
        p,
        i,
        'sigma',
        at(
          [
            [1.3, 1.6, 2.0],
            [0.85, 1.15, 1.3],
            [0.93, 1.07, 1.15],
          ],
          round,
        ),
        [0.1, 10],
      );
    },
  },
  median: {
    about: 'median filtering instead of, or around, the main smoother',
    variants(p) {
      const i = mainIndex(p);
      if (i < 0 || p.steps.some((s) => s.op === 'median')) return [];
      return [
        ...replaceMain(
          p,
          [
            { op: 'median', radius: 1 },
            { op: 'median', radius: 2 },
          ],
          (s) => `median(radius=${s.radius})`,
        ),
        variant(`insert median(radius=1) before steps[${i}]`, insertStep(p, i, { op: 'median', radius: 1 })),
        variant(`insert median(radius=1) after steps[${i}]`, insertStep(p, i + 1, { op: 'median', radius: 1 })),
      ];
    },
  },
  nlm_h: {
    about: 'non-local means and its filtering strength h',
    variants(p, round) {
      const i = mainIndex(p);
      if (i < 0) return [];
      if (p.steps[i].op !== 'nlm') {
        return replaceMain(
          p,
          [20, 30, 40, 55].map((h) => ({ op: 'nlm', patch: 1, search: 5, h })),
          (s) => `nlm(patch=1,search=5,h=${s.h})`,
        );
      }
      return scaled(
        p,
        i,
        'h',
        at(
          [
            [0.8, 0.9, 1.12, 1.25],
            [0.93, 1.07, 1.15],
          ],
          round - 1,
        ),
        [1, 255],
      );
    },
  },
  post_smooth: {
    about: 'a light Gaussian after the main smoother',
    variants(p) {
      const i = mainIndex(p);
      if (i < 0) return [];
      const next = p.steps[i + 1];
      if (next?.op !== 'gaussian') {
        return [0.4, 0.55, 0.7].map((sigma) =>
          variant(`append gaussian(sigma=${sigma}) after steps[${i}]`, insertStep(p, i + 1, { op: 'gaussian', sigma })),
        );
      }
      return [
        ...scaled(p, i + 1, 'sigma', [0.8, 1.25], [0.1, 10]),
        variant(`remove steps[${i + 1}] gaussian`, removeStep(p, i + 1)),
      ];
    },
  },
  nlm_noise: {
    about: 'subtracting the expected noise distance 2·sigma² before weighting (NLM)',
    variants(p) {
      const i = mainIndex(p);
      if (i < 0 || p.steps[i].op !== 'nlm') return [];
      const s = p.steps[i];
      const now = s.sigma ?? 0;
      return [
        [15, 1],
        [20, 0.85],
        [25, 0.75],
        [25, 0.6],
      ]
        .filter(([sigma]) => sigma !== now)
        .map(([sigma, f]) => {
          const h = r3(s.h * f);
          return variant(
            `steps[${i}]: sigma ${now} → ${sigma}, h ${s.h} → ${h}`,
            replaceStep(p, i, { ...s, sigma, h }),
          );
        });
    },
  },
  nlm_window: {
    about: 'patch and search radii of non-local means',
    variants(p) {
      const i = mainIndex(p);
      if (i < 0 || p.steps[i].op !== 'nlm') return [];
      const s = p.steps[i];
      const options = [
        ['patch', s.patch + 1],
        ['patch', s.patch - 1],
        ['search', s.search - 1],
        ['search', s.search + 1],
        ['search', s.search + 2],
      ].filter(([k, v]) => (k === 'patch' ? v >= 1 && v <= 3 : v >= 2 && v <= 8));
      return options.map(([k, v]) => variant(`steps[${i}].${k}: ${s[k]} → ${v}`, replaceStep(p, i, { ...s, [k]: v })));
    },
  },
  unsharp: {
    about: 'unsharp masking after denoising, to restore edge contrast',
    variants(p) {
      if (p.steps.some((s) => s.op === 'unsharp')) return [];
      return [
        [1, 0.15],
        [1, 0.3],
        [2, 0.2],
      ].map(([sigma, amount]) =>
        variant(`append unsharp(sigma=${sigma},amount=${amount})`, {
          ...p,
          steps: [...p.steps, { op: 'unsharp', sigma, amount }],
        }),
      );
    },
  },
  blend: {
    about: 'mixing a little of the noisy input back (keeps texture, adds noise)',
    variants(p) {
      const i = mainIndex(p);
      if (i < 0) return [];
      const s = p.steps[i];
      return [0.05, 0.1, 0.2]
        .filter((b) => b !== s.blend)
        .map((blend) => variant(`steps[${i}].blend: ${s.blend ?? 0} → ${blend}`, replaceStep(p, i, { ...s, blend })));
    },
  },
  bilateral: {
    about: 'edge-preserving bilateral filter (range sigma, spatial sigma)',
    variants(p, round) {
      const i = mainIndex(p);
      if (i < 0) return [];
      const main = p.steps[i];
      if (main.op !== 'bilateral') {
        const sigmaSpatial = r3(main.op === 'gaussian' ? Math.max(1, main.sigma) : 1.5);
        return replaceMain(
          p,
          [40, 60, 80, 110].map((sigmaRange) => ({ op: 'bilateral', radius: 3, sigmaSpatial, sigmaRange })),
          (s) => `bilateral(radius=3,sigmaSpatial=${s.sigmaSpatial},sigmaRange=${s.sigmaRange})`,
        );
      }
      return [
        ...scaled(
          p,
          i,
          'sigmaRange',
          at(
            [
              [0.8, 1.25],
              [0.9, 1.12],
            ],
            round - 1,
          ),
          [1, 255],
        ),
        ...scaled(
          p,
          i,
          'sigmaSpatial',
          at(
            [
              [0.8, 1.25],
              [0.9, 1.12],
            ],
            round - 1,
          ),
          [0.1, 10],
        ),
      ];
    },
  },
  guided: {
    about: 'self-guided filter (radius, eps) instead of the main smoother',
    variants(p) {
      const i = mainIndex(p);
      if (i < 0 || p.steps[i].op === 'guided') return [];
      return replaceMain(
        p,
        [
          [2, 1500],
          [2, 3000],
          [3, 3000],
          [3, 6000],
        ].map(([radius, eps]) => ({ op: 'guided', radius, eps })),
        (s) => `guided(radius=${s.radius},eps=${s.eps})`,
      );
    },
  },
};

export const SCHEDULE = Object.keys(AXES);
