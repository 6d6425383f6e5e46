// The scripted reviewer's independent checks: evaluator integrity, re-runs of the protected
// evaluator, and pixel-level statistics of the candidate against the previous best.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { evaluatePipeline, loadSplit } from '../lib/evaluate.mjs';
import { decodePng } from '../lib/png.mjs';
import { BASELINE_MANIFEST, readJson, sha256, writeText } from './loop-files.mjs';

const run = promisify(execFile);

function listFiles(root, dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((d) => {
    const rel = `${dir}/${d.name}`;
    return d.isDirectory() ? listFiles(root, rel) : d.isFile() ? [rel] : [];
  });
}

/** Protected files this reviewer hashes when no engine manifest exists. */
const protectedFiles = (root) =>
  ['eval.mjs', ...listFiles(root, 'lib'), ...listFiles(root, 'tools'), ...listFiles(root, 'data')].sort();

function hashOf(root, rel) {
  const file = path.join(root, rel);
  return fs.existsSync(file) ? sha256(fs.readFileSync(file)) : null;
}

/**
 * Compares the evaluator and its inputs with the engine's baseline manifest, or else with the hashes
 * this reviewer recorded at its first run (loop_station/reviews/<AGENT>-evaluator-sha256.json).
 */
export function checkEvaluator(root, agent, session) {
  const manifest = readJson(root, BASELINE_MANIFEST);
  let expected;
  let source;
  if (manifest?.source_files) {
    expected = manifest.source_files
      .filter((f) => (f.protection_mode ? f.protection_mode === 'untouched' : !f.path.startsWith('denoiser/')))
      .map((f) => ({ path: f.path, sha256: f.sha256_before_copy }));
    source = BASELINE_MANIFEST;
  } else {
    const recordFile = `loop_station/reviews/${agent}-evaluator-sha256.json`;
    const record = readJson(root, recordFile);
    if (record) {
      expected = record.files;
      source = `${recordFile} (recorded in session ${record.session})`;
    } else {
      expected = protectedFiles(root).map((p) => ({ path: p, sha256: hashOf(root, p) }));
      writeText(root, recordFile, `${JSON.stringify({ session, files: expected }, null, 2)}\n`);
      source = `${recordFile} (first run: recorded now, nothing to compare against yet)`;
    }
  }
  const files = expected.map((f) => ({ ...f, actual: hashOf(root, f.path) }));
  const changed = files.filter((f) => f.actual !== f.sha256);
  const evalEntry = files.find((f) => f.path === 'eval.mjs');
  return {
    source,
    count: files.length,
    changed,
    evalSha: evalEntry?.actual ?? hashOf(root, 'eval.mjs'),
    ok: changed.length === 0 && Boolean(evalEntry),
  };
}

/** Runs `node eval.mjs <args>` in the root; the parsed JSON line, or the failure. */
export async function runEval(root, args) {
  const command = `node eval.mjs ${args.join(' ')}`.trim();
  try {
    const { stdout } = await run(process.execPath, ['eval.mjs', ...args], {
      cwd: root,
      timeout: 120_000,
      maxBuffer: 4 << 20,
      env: { ...process.env, LOOP_STATION_EVIDENCE_DIR: '' },
    });
    const lines = stdout.trim().split('\n');
    return { command, ok: true, result: JSON.parse(lines[lines.length - 1]) };
  } catch (err) {
    return { command, ok: false, error: (err.stderr || err.message || String(err)).trim().split('\n')[0] };
  }
}

/** Paired per-image differences (candidate − reference) of two --per-image runs. */
export function pairedDiff(candidate, reference) {
  const d = candidate.per_image.map((r, i) => r.psnr - reference.per_image[i].psnr);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, d.length - 1));
  return {
    n: d.length,
    mean,
    se: sd / Math.sqrt(d.length),
    wins: d.filter((v) => v > 0).length,
    losses: d.filter((v) => v < 0).length,
    worst: Math.min(...d),
    best: Math.max(...d),
  };
}

/**
 * Runs the pipeline on the validation split in-process (lib/evaluate.mjs, the evaluator's code) and
 * measures where the error sits: RMSE on the 20% strongest clean edges vs in flat areas, and the
 * method noise (noisy − denoised) against the noise actually added (noisy − clean, as rounded and clipped).
 */
export function errorProfile(root, pipeline) {
  const images = loadSplit(root, 'validation');
  const run = evaluatePipeline(pipeline, images);
  let edgeSq = 0,
    edgeN = 0,
    flatSq = 0,
    flatN = 0,
    methodSq = 0,
    noiseSq = 0,
    n = 0;
  images.forEach((im, k) => {
    const out = run.perImage[k].denoised;
    const grad = new Float64Array(im.clean.length);
    for (let y = 1; y < im.height - 1; y++) {
      for (let x = 1; x < im.width - 1; x++) {
        const i = y * im.width + x;
        grad[i] = Math.hypot(im.clean[i + 1] - im.clean[i - 1], im.clean[i + im.width] - im.clean[i - im.width]);
      }
    }
    const threshold = [...grad].sort((a, b) => a - b)[Math.floor(0.8 * grad.length)];
    for (let i = 0; i < out.length; i++) {
      const e = (out[i] - im.clean[i]) ** 2;
      if (grad[i] >= threshold) {
        edgeSq += e;
        edgeN++;
      } else {
        flatSq += e;
        flatN++;
      }
      methodSq += (im.noisy[i] - out[i]) ** 2;
      noiseSq += (im.noisy[i] - im.clean[i]) ** 2;
      n++;
    }
  });
  const metrics = {
    psnr: run.psnr,
    ssim: run.ssim,
    per_image: run.perImage.map((r) => ({
      name: r.name,
      psnr: Number(r.psnr.toFixed(4)),
      ssim: Number(r.ssim.toFixed(4)),
    })),
  };
  return {
    edgeRmse: Math.sqrt(edgeSq / edgeN),
    flatRmse: Math.sqrt(flatSq / flatN),
    methodNoise: Math.sqrt(methodSq / n),
    noiseSigma: Math.sqrt(noiseSq / n),
    metrics,
    outputs: run.perImage.map((r) => ({ name: r.name, denoised: r.denoised })),
  };
}

/** Finds the evaluator's PNG evidence and checks denoised.png against this reviewer's own output. */
export function checkEvidencePngs(root, dirs, outputs) {
  for (const rel of dirs.filter(Boolean)) {
    const dir = path.resolve(root, rel);
    const meta = readJson(dir, 'evidence.json');
    if (!meta || !fs.existsSync(path.join(dir, 'denoised.png'))) continue;
    const found = ['noisy.png', 'denoised.png', 'clean.png', 'strip.png'].filter((f) =>
      fs.existsSync(path.join(dir, f)),
    );
    try {
      const png = decodePng(fs.readFileSync(path.join(dir, 'denoised.png')));
      const mine = meta.split === 'validation' ? outputs.find((o) => o.name === meta.image) : undefined;
      const mismatched = mine ? png.pixels.reduce((n, v, i) => n + (v !== mine.denoised[i] ? 1 : 0), 0) : null;
      return {
        dir: path.relative(root, dir) || '.',
        found,
        image: meta.image,
        split: meta.split,
        width: png.width,
        height: png.height,
        mismatched,
      };
    } catch (err) {
      return { dir: path.relative(root, dir) || '.', found, image: meta.image, error: err.message };
    }
  }
  return null;
}
