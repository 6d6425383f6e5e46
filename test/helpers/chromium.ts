import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Debian's Chromium for the browser tests, installed by scripts/ensure-chromium.sh when missing. */

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const CHROMIUM_INSTALL_TIMEOUT_MS = 15 * 60_000;
const ENSURE = fileURLToPath(new URL('../../scripts/ensure-chromium.sh', import.meta.url));

/** Runs scripts/ensure-chromium.sh: null when Chromium is there, else why not (the tests skip saying so). */
export function ensureChromium(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('bash', [ENSURE], { timeout: CHROMIUM_INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error && existsSync(CHROMIUM)) return resolve(null);
      const why = stderr.trim().split('\n').slice(-3).join(' | ') || (error ? error.message : `${CHROMIUM} still missing`);
      resolve(`Chromium is not available at ${CHROMIUM}: scripts/ensure-chromium.sh failed (${why})`);
    });
  });
}
