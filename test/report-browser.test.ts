import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reportCommand } from '../cli/commands/report.js';
import type { Output } from '../cli/output.js';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_INSTALL_TIMEOUT_MS, ensureChromium } from './helpers/chromium.js';
import { reportFixture } from './helpers/report-fixture.js';

/**
 * The HTML report in a real headless Chromium: one point per session, the best line ending at the
 * best, images decoded, no console errors and no requests beyond the file itself.
 */

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

const cleanup: string[] = [];

beforeAll(async () => {
  await ensureChromium();
}, CHROMIUM_INSTALL_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
});

const quiet: Output = { json: false, color: false, data() {}, json_() {}, log() {} };

interface PageRun {
  points: { session: number; value: string; decision: string }[];
  bestLine: string | null;
  rows: number;
  bestTile: string;
  images: { total: number; decoded: number };
  problems: string[];
}

/** Opens the report in a fresh profile, collecting console errors, page errors and every non-file request. */
async function openReport(htmlPath: string, screenshot?: string): Promise<PageRun> {
  const profile = await mkdtemp(join(tmpdir(), 'loop-station-chromium-'));
  cleanup.push(profile);
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
    page.on('request', (r) => {
      if (!/^(file|data):/.test(r.url())) problems.push(`network request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    const run: PageRun = {
      points: await page.locator('svg.trend-chart circle.point').evaluateAll((els) =>
        els.map((e) => ({
          session: Number(e.getAttribute('data-session')),
          value: e.getAttribute('data-value') ?? '',
          decision: e.getAttribute('data-decision') ?? '',
        })),
      ),
      bestLine: await page
        .locator('svg.trend-chart path.best-line')
        .getAttribute('data-last-value')
        .catch(() => null),
      rows: await page.locator('table.sessions tbody tr').count(),
      bestTile: (await page.locator('.tile').first().locator('.tile-v').textContent()) ?? '',
      // tsconfig has no DOM lib: the image fields are typed by hand.
      images: await page.locator('img').evaluateAll((els) => ({
        total: els.length,
        decoded: els
          .map((e) => e as unknown as { complete: boolean; naturalWidth: number })
          .filter((e) => e.complete && e.naturalWidth > 0).length,
      })),
      problems,
    };
    if (screenshot) {
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
    }
    return run;
  } finally {
    await context.close();
  }
}

describe('report in headless Chromium', () => {
  test('a 12-session engine loop: 13 points, best line at the best, pictures decoded, no errors or requests', async () => {
    const root = await reportFixture('engine-denoise');
    cleanup.push(root);
    const report = await reportCommand({ target: root }, quiet);
    expect(report).toMatchObject({
      path: join(root, 'loop_station', 'report.html'),
      format: 'html',
      sessions: 12,
      best: { session: 9, value: 30.0242 },
    });

    const run = await openReport(report.path, join(ARTIFACTS, 'report.png'));
    expect(run.problems).toEqual([]);
    expect(run.points.map((p) => p.session)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(run.points.length).toBe(run.rows);
    expect(run.points[9]).toEqual({ session: 9, value: '30.0242', decision: 'promote' });
    expect(run.bestLine).toBe('30.0242');
    expect(run.bestLine).toBe(String(report.best!.value));
    expect(run.bestTile).toBe('30.0242');
    expect(run.images).toEqual({ total: 8, decoded: 8 });
  });

  test('an original-skill folder: a point for the session without a value, the computed best, no errors', async () => {
    const root = await reportFixture('original-ledger');
    cleanup.push(root);
    const report = await reportCommand({ target: join(root, 'loop_station') }, quiet);
    const run = await openReport(report.path);
    expect(run.problems).toEqual([]);
    expect(run.points).toEqual([
      { session: 0, value: '24.1', decision: 'baseline' },
      { session: 1, value: '25.3', decision: 'promote' },
      { session: 2, value: '25.1', decision: 'pivot_axis' },
      { session: 3, value: '', decision: 'needs_more_evidence' },
      { session: 4, value: '26', decision: 'promote' },
    ]);
    expect(run.bestLine).toBe('26');
    expect(run.images).toEqual({ total: 0, decoded: 0 });
  });
});
