import { cp, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from '../../examples/denoise-psnr/lib/png.mjs';
import { testdir } from './testdir.js';

export const REPORT_FIXTURES = fileURLToPath(new URL('../fixtures/report/', import.meta.url));

const SIZE = 32;

/** A deterministic 32×32 scene: a gradient with a disc and a bar. */
function clean(): Uint8Array {
  const px = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const disc = (x - 11) ** 2 + (y - 12) ** 2 < 36;
      const bar = x > 18 && x < 28 && y > 20 && y < 26;
      px[y * SIZE + x] = disc ? 235 : bar ? 30 : 70 + x * 3 + y;
    }
  }
  return px;
}

/** The clean scene plus noise from a fixed LCG, scaled by `amount` (1: raw noise, 0: clean). */
function noisy(amount: number): Uint8Array {
  const base = clean();
  let seed = 12345;
  return base.map((v) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.max(0, Math.min(255, Math.round(v + (seed / 2 ** 31 - 0.5) * 120 * amount)));
  });
}

/** noisy | denoised | clean side by side, as the demo's strip.png. */
function strip(amount: number): Uint8Array {
  const parts = [noisy(1), noisy(amount), clean()];
  const px = new Uint8Array(SIZE * 3 * SIZE);
  for (let y = 0; y < SIZE; y++)
    parts.forEach((p, i) => px.set(p.subarray(y * SIZE, (y + 1) * SIZE), y * SIZE * 3 + i * SIZE));
  return px;
}

/** Evidence PNGs as the demo leaves them: each session's denoised picture less noisy than the last. */
export async function writeEvidence(root: string, sessions: Record<number, number>): Promise<void> {
  for (const [session, amount] of Object.entries(sessions)) {
    const n = Number(session);
    const dir =
      n === 0
        ? join(root, 'loop_station/code_variants/session_000/baseline/evidence')
        : join(root, `loop_station/sessions/session_${String(n).padStart(3, '0')}/evidence`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'clean.png'), encodePng(SIZE, SIZE, clean()));
    await writeFile(join(dir, 'noisy.png'), encodePng(SIZE, SIZE, noisy(1)));
    await writeFile(join(dir, 'denoised.png'), encodePng(SIZE, SIZE, noisy(amount)));
    await writeFile(join(dir, 'strip.png'), encodePng(SIZE * 3, SIZE, strip(amount)));
  }
}

/** A temp copy of `test/fixtures/report/<name>`; `engine-denoise` gets evidence for 000, 001, 009, 011, 012. */
export async function reportFixture(name: string): Promise<string> {
  const root = await testdir({}, `loop-station-report-${name}-`);
  await cp(join(REPORT_FIXTURES, name), root, { recursive: true });
  if (name === 'engine-denoise') await writeEvidence(root, { 0: 0.9, 1: 0.5, 9: 0.15, 11: 0.2, 12: 0.15 });
  return root;
}

export async function writeTree(root: string, tree: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(tree)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  }
}
