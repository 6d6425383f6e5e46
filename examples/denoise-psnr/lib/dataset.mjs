// Deterministic synthetic dataset: clean 96×96 grayscale scenes and their noisy copies
// (additive Gaussian noise, rounded and clipped to 0–255). Everything derives from one seed.

/** Noise sigma is drawn per image from sigma ± sigmaSpread: real data rarely has one noise level. */
export const DATASET = { seed: 20261124, size: 96, count: 24, sigma: 25, sigmaSpread: 5, supersample: 3 };
export const KINDS = ['gradient', 'edges', 'shapes', 'texture', 'natural', 'mixture'];

/** mulberry32: a small, fast 32-bit PRNG; deterministic across platforms. */
function createRng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const uniform = (lo, hi) => lo + (hi - lo) * next();
  let spare;
  const normal = () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const u = 1 - next();
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * next();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
  return { next, uniform, normal, int: (lo, hi) => Math.floor(uniform(lo, hi + 1)) };
}

/** Smoothly interpolated lattice noise in [-1, 1] with the given cell size in pixels. */
function valueNoise(rng, size, cell) {
  const n = Math.ceil(size / cell) + 2;
  const lattice = Float64Array.from({ length: n * n }, () => rng.uniform(-1, 1));
  const smooth = (t) => t * t * (3 - 2 * t);
  return (x, y) => {
    const gx = x / cell;
    const gy = y / cell;
    const ix = Math.floor(gx);
    const iy = Math.floor(gy);
    const tx = smooth(gx - ix);
    const ty = smooth(gy - iy);
    const at = (i, j) => lattice[(iy + j) * n + ix + i];
    return (at(0, 0) * (1 - tx) + at(1, 0) * tx) * (1 - ty) + (at(0, 1) * (1 - tx) + at(1, 1) * tx) * ty;
  };
}

/** A 1/f-like detail layer: octaves from 2 to 32 pixels, amplitude shrinking with scale. */
function fractal(rng, size, amplitude) {
  const octaves = [32, 16, 8, 4, 2].map((cell) => ({
    noise: valueNoise(rng, size, cell),
    weight: (cell / 32) ** 0.15,
  }));
  const total = octaves.reduce((s, o) => s + o.weight, 0);
  return (x, y) => (amplitude / total) * octaves.reduce((s, o) => s + o.weight * o.noise(x, y), 0) * 2;
}

function gradientField(rng, size) {
  const angle = rng.uniform(0, 2 * Math.PI);
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  const lo = rng.uniform(30, 90);
  const hi = rng.uniform(160, 225);
  const detail = fractal(rng, size, rng.uniform(16, 26));
  return (x, y) => {
    const t = ((x - size / 2) * c + (y - size / 2) * s) / size + 0.5;
    return lo + (hi - lo) * Math.min(1, Math.max(0, t)) + detail(x, y);
  };
}

function edgesField(rng, size) {
  const lines = Array.from({ length: rng.int(6, 10) }, () => {
    const angle = rng.uniform(0, Math.PI);
    return {
      nx: Math.cos(angle),
      ny: Math.sin(angle),
      d: rng.uniform(-0.3, 0.3) * size,
      step: rng.uniform(-50, 50),
      width: rng.next() < 0.5 ? rng.uniform(1, 4) : Infinity,
    };
  });
  const base = rng.uniform(100, 150);
  const detail = fractal(rng, size, rng.uniform(8, 14));
  return (x, y) =>
    lines.reduce(
      (v, l) => {
        const t = (x - size / 2) * l.nx + (y - size / 2) * l.ny - l.d;
        return v + (t > 0 && t < l.width ? l.step : 0);
      },
      base + detail(x, y),
    );
}

function shapeList(rng, size, count) {
  return Array.from({ length: count }, () => {
    const kind = ['disc', 'rect', 'ellipse'][rng.int(0, 2)];
    return {
      kind,
      x: rng.uniform(0.05, 0.95) * size,
      y: rng.uniform(0.05, 0.95) * size,
      a: rng.uniform(2.5, 12),
      b: rng.uniform(2.5, 12),
      rot: rng.uniform(0, Math.PI),
      level: rng.uniform(30, 225),
    };
  });
}

function insideShape(s, x, y) {
  const dx = x - s.x;
  const dy = y - s.y;
  const u = dx * Math.cos(s.rot) + dy * Math.sin(s.rot);
  const v = -dx * Math.sin(s.rot) + dy * Math.cos(s.rot);
  if (s.kind === 'disc') return dx * dx + dy * dy < s.a * s.a;
  if (s.kind === 'rect') return Math.abs(u) < s.a && Math.abs(v) < s.b * 0.7;
  return (u / s.a) ** 2 + (v / s.b) ** 2 < 1;
}

function shapesField(rng, size, background) {
  const bg = background ?? (() => rng.uniform(60, 190))();
  const bgFn = typeof bg === 'function' ? bg : () => bg;
  const shapes = shapeList(rng, size, rng.int(14, 24));
  const detail = fractal(rng, size, rng.uniform(8, 14));
  return (x, y) => {
    for (let i = shapes.length - 1; i >= 0; i--)
      if (insideShape(shapes[i], x, y)) return shapes[i].level + detail(x, y);
    return bgFn(x, y) + detail(x, y);
  };
}

function textureField(rng, size) {
  const waves = Array.from({ length: rng.int(2, 3) }, () => {
    const angle = rng.uniform(0, Math.PI);
    const period = rng.uniform(3.5, 10);
    return {
      kx: (2 * Math.PI * Math.cos(angle)) / period,
      ky: (2 * Math.PI * Math.sin(angle)) / period,
      phase: rng.uniform(0, 2 * Math.PI),
      amp: rng.uniform(12, 30),
    };
  });
  const base = rng.uniform(110, 145);
  const detail = fractal(rng, size, rng.uniform(15, 25));
  return (x, y) => waves.reduce((v, w) => v + w.amp * Math.sin(w.kx * x + w.ky * y + w.phase), base + detail(x, y));
}

function naturalField(rng, size) {
  const base = rng.uniform(100, 150);
  const detail = fractal(rng, size, rng.uniform(45, 65));
  return (x, y) => base + detail(x, y);
}

function mixtureField(rng, size) {
  const texture = textureField(rng, size);
  const patch = { x0: rng.uniform(0, 0.5) * size, y0: rng.uniform(0, 0.5) * size, side: rng.uniform(0.3, 0.45) * size };
  const shapes = shapesField(rng, size, gradientField(rng, size));
  return (x, y) =>
    x > patch.x0 && x < patch.x0 + patch.side && y > patch.y0 && y < patch.y0 + patch.side
      ? texture(x, y)
      : shapes(x, y);
}

const FIELDS = {
  gradient: gradientField,
  edges: edgesField,
  shapes: shapesField,
  texture: textureField,
  natural: naturalField,
  mixture: mixtureField,
};

function render(field, size, ss) {
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let j = 0; j < ss; j++) for (let i = 0; i < ss; i++) s += field(x + (i + 0.5) / ss, y + (j + 0.5) / ss);
      out[y * size + x] = Math.min(255, Math.max(0, Math.round(s / (ss * ss))));
    }
  }
  return out;
}

/**
 * A seeded shuffle picks the validation half, reshuffled until every kind is in both splits. Like any
 * small random split it is not balanced: the kinds' shares differ between train and validation.
 */
function validationSet(rng, count) {
  const order = Array.from({ length: count }, (_, i) => i);
  for (;;) {
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const chosen = new Set(order.slice(0, count / 2));
    const covered = KINDS.every((_, k) => {
      const members = order.filter((i) => i % KINDS.length === k);
      return members.some((i) => chosen.has(i)) && members.some((i) => !chosen.has(i));
    });
    if (covered) return chosen;
  }
}

/** The dataset: `count` images, kinds in turn, half of them for validation. */
export function generateDataset(options = DATASET) {
  const { seed, size, count, sigma, sigmaSpread, supersample } = options;
  const validation = validationSet(createRng(seed), count);
  return Array.from({ length: count }, (_, i) => {
    const kind = KINDS[i % KINDS.length];
    const sceneRng = createRng(seed + 1000 * (i + 1));
    const clean = render(FIELDS[kind](sceneRng, size), size, supersample);
    const noiseRng = createRng(seed + 7919 * (i + 1));
    const noiseSigma = Number((sigma + sigmaSpread * (2 * noiseRng.next() - 1)).toFixed(2));
    const noisy = clean.map((v) => Math.min(255, Math.max(0, Math.round(v + noiseSigma * noiseRng.normal()))));
    const split = validation.has(i) ? 'validation' : 'train';
    return {
      name: `img_${String(i).padStart(2, '0')}_${kind}`,
      kind,
      split,
      sigma: noiseSigma,
      width: size,
      height: size,
      clean,
      noisy,
    };
  });
}
