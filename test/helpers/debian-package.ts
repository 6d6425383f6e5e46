import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Programs the tests take from Debian's packages (chromium, zsh, fish), installed by
 * scripts/ensure-debian-package.sh when missing. A program that cannot be had fails the tests that
 * need it, with the reason and the fix: never a silent skip.
 */

export const DEBIAN_INSTALL_TIMEOUT_MS = 15 * 60_000;
const ENSURE = fileURLToPath(new URL('../../scripts/ensure-debian-package.sh', import.meta.url));

/** Installs `pkg` unless `program` exists; rejects with the script's reason when it cannot. */
export function ensureDebianPackage(program: string, pkg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [ENSURE, program, pkg],
      { timeout: DEBIAN_INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error && existsSync(program)) return resolve();
        const why =
          stderr.trim().split('\n').slice(-3).join(' | ') || (error ? error.message : `${program} still missing`);
        reject(
          new Error(`${program} is not available: scripts/ensure-debian-package.sh ${program} ${pkg} failed (${why})`),
        );
      },
    );
  });
}
