import { ensureDebianPackage } from './debian-package.js';

/** Debian's Chromium for the browser tests, installed by scripts/ensure-debian-package.sh when missing. */

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export { DEBIAN_INSTALL_TIMEOUT_MS as CHROMIUM_INSTALL_TIMEOUT_MS } from './debian-package.js';

/** Resolves once Chromium is at CHROMIUM; rejects with the reason and the fix when it cannot be had. */
export const ensureChromium = (): Promise<void> => ensureDebianPackage(CHROMIUM, 'chromium');
