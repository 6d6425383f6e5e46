#!/usr/bin/env node
// Creates (or refreshes) a loop root for the denoise-psnr example:
//   <root>/denoiser/pipeline.json   workspace: the file the executor edits (never overwritten)
//   <root>/eval.mjs, lib/           protected evaluator and image library
//   <root>/tools/                   protected scripted agents (executor.mjs, reviewer.mjs)
//   <root>/data/                    protected dataset, generated deterministically
//
//   node examples/denoise-psnr/setup.mjs <root>
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASET, generateDataset } from './lib/dataset.mjs';
import { encodePgm } from './lib/image.mjs';

export const EXAMPLE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Writes the file only when its bytes differ, so a re-run leaves hashes and mtimes alone. */
function syncFile(target, bytes) {
  if (fs.existsSync(target) && fs.readFileSync(target).equals(bytes)) return false;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, bytes);
  return true;
}

function copyModules(fromDir, toDir) {
  return fs
    .readdirSync(fromDir)
    .filter((f) => f.endsWith('.mjs'))
    .filter((f) => syncFile(path.join(toDir, f), fs.readFileSync(path.join(fromDir, f)))).length;
}

function writeDataset(root) {
  const manifestFile = path.join(root, 'data', 'manifest.json');
  const images = generateDataset(DATASET);
  const manifest = {
    ...DATASET,
    format: 'PGM P5 8-bit',
    layout: 'data/<split>/{clean,noisy}/<name>.pgm',
    images: images.map(({ name, kind, split, sigma }) => ({ name, kind, split, sigma })),
  };
  let written = 0;
  for (const im of images) {
    for (const version of ['clean', 'noisy']) {
      written += Number(
        syncFile(
          path.join(root, 'data', im.split, version, `${im.name}.pgm`),
          encodePgm(im.width, im.height, im[version]),
        ),
      );
    }
  }
  written += Number(syncFile(manifestFile, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)));
  return { images: images.length, written };
}

/** Sets up `root`; safe to re-run: it never touches an existing denoiser/pipeline.json. */
export function setupRoot(root) {
  const abs = path.resolve(root);
  fs.mkdirSync(abs, { recursive: true });
  const changed = [
    syncFile(path.join(abs, 'eval.mjs'), fs.readFileSync(path.join(EXAMPLE_DIR, 'eval.mjs'))) ? 1 : 0,
    copyModules(path.join(EXAMPLE_DIR, 'lib'), path.join(abs, 'lib')),
    copyModules(path.join(EXAMPLE_DIR, 'agents'), path.join(abs, 'tools')),
  ].reduce((a, b) => a + b, 0);
  const pipelineFile = path.join(abs, 'denoiser', 'pipeline.json');
  const pipelineCreated = !fs.existsSync(pipelineFile);
  if (pipelineCreated) syncFile(pipelineFile, fs.readFileSync(path.join(EXAMPLE_DIR, 'baseline-pipeline.json')));
  const data = writeDataset(abs);
  return {
    root: abs,
    codeFilesWritten: changed,
    pipelineCreated,
    dataImages: data.images,
    dataFilesWritten: data.written,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2];
  if (!root || process.argv.length > 3) {
    process.stderr.write('usage: node examples/denoise-psnr/setup.mjs <root>\n');
    process.exitCode = 2;
  } else {
    const r = setupRoot(root);
    process.stdout.write(
      `${r.root}: ${r.codeFilesWritten} code files written, pipeline ${r.pipelineCreated ? 'created' : 'kept'}, ` +
        `${r.dataImages} images (${r.dataFilesWritten} data files written)\n`,
    );
  }
}
