import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { isAlive } from '../activities/agents/process-tree.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import { type Dashboard, startDashboard } from '../ui/server.js';
import { connectLoopSource, type TemporalLoopSource } from '../ui/temporal-source.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { LoopName } from '../workflows/search-attributes.js';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_INSTALL_TIMEOUT_MS, ensureChromium } from './helpers/chromium.js';
import { cli } from './helpers/cli.js';
import { node, toyRoot, toySpec } from './helpers/loops.js';
import { until } from './helpers/waits.js';
import { testdir } from './helpers/testdir.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * The dashboard in Debian's Chromium against the test run's Temporal dev server and a real worker:
 * scripted shell agents, real files, the same updates the CLI sends. Screenshots of every page, on
 * a desktop and on a 375 px phone in dark mode, land in test-results/dashboard/ for people to see.
 */

const SHOTS = fileURLToPath(new URL('../test-results/dashboard/', import.meta.url));
const PHONE: BrowserContextOptions = {
  viewport: { width: 375, height: 800 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  colorScheme: 'dark',
};
/**
 * How long a page may take to show what a test waits for: a refresh, or an update's answer (a stop
 * --now waits for its agent to be cancelled). It bounds a wait, it times nothing; on a loaded 2-core
 * machine vitest's default second was too short (one CI run: Stop now still "sending…" after 1 s).
 */
const SHOWN = { timeout: 15_000 };
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 }, colorScheme: 'light' };

const worker = useTestWorker();
let browser: Browser | undefined;
let source: TemporalLoopSource | undefined;
let dashboard: Dashboard | undefined;

beforeAll(async () => {
  await ensureChromium();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  source = await connectLoopSource(
    { address: inject('temporalAddress'), namespace: inject('temporalNamespace') },
    { temporalUi: inject('temporalUiUrl') || null },
  );
  dashboard = await startDashboard({ source, allowRoots: [await realpath(tmpdir())], port: 0 });
  await mkdir(SHOTS, { recursive: true });
}, CHROMIUM_INSTALL_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await dashboard?.close();
  await source?.close();
  await browser?.close();
});

const contexts: BrowserContext[] = [];
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
});

/** A fresh browser context whose page problems (console errors, failed requests) are collected. */
async function openPage(
  path: string,
  options: BrowserContextOptions = DESKTOP,
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser!.newContext(options);
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(new URL(path, dashboard!.url).href);
  return { page, problems };
}

/** Width of the page's own scroll area: above the viewport means the page scrolls sideways. */
const pageOverflow = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');

let n = 0;
async function startLoop(overrides: Parameters<typeof toySpec>[2], files: Record<string, string> = {}) {
  const root = await toyRoot(files);
  const name = `dash-${process.pid}-${Date.now()}-${n++}`;
  const config = { ...toySpec(root, worker.taskQueue, overrides), name };
  const workflowId = `loop-${name}`;
  const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId,
    taskQueue: worker.taskQueue,
    args: [{ config }],
    memo: {
      goal: config.goal,
      metric: config.evidence.metric,
      direction: config.evidence.direction,
      root,
      sessions: config.budget.sessions,
    },
    typedSearchAttributes: [{ key: LoopName, value: name }],
  });
  return { root, handle, name, workflowId, loopPath: `/loops/${encodeURIComponent(workflowId)}` };
}

const points = (page: Page) =>
  page
    .locator('.chart-wide svg.trend-chart circle.point')
    .evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-session')), e.getAttribute('data-value')]));

describe('dashboard in Chromium', () => {
  test('the loops page lists a running loop; its page shows the chart grow as sessions close, without a reload', async () => {
    const { handle, name, workflowId, loopPath } = await startLoop(
      {
        budget: { sessions: 3 },
        reviewers: [{ name: 'toy_rev', agent: 'shell', command: node('toy-reviewer.mjs'), required: true }],
      },
      { 'plan.json': JSON.stringify({ sleep: { 1: 2500, 2: 1500, 3: 1500 } }) },
    );

    const list = await openPage('/');
    const row = list.page.locator(`tr[data-loop="${workflowId}"]`);
    await expect.poll(() => row.locator('td').nth(1).textContent(), SHOWN).toMatch(/executing|framing|pending/);
    expect(await row.getByRole('link', { name }).getAttribute('href')).toBe(loopPath);
    await list.page.screenshot({ path: join(SHOTS, 'loops.png'), fullPage: true });

    await row.getByRole('link', { name }).click();
    await list.page.waitForURL(`**${loopPath}`);
    const page = list.page;
    // A mark on this document: it is still there at the end only if the page never reloaded.
    await page.evaluate('window.sameDocument = true');
    const seen: number[] = [];
    const result = handle.result() as Promise<LoopResult>;
    let done = false;
    void result.finally(() => (done = true));
    while (!done) {
      const count = (await points(page)).length;
      if (seen.at(-1) !== count) seen.push(count);
      await new Promise((r) => setTimeout(r, 200));
    }
    const final = await result;
    // Within 2 s of the end every point is there: baseline and three sessions, with their values.
    await expect
      .poll(() => points(page), SHOWN)
      .toEqual([[0, '0'], ...final.history.map((h) => [h.session, String(h.value)])]);
    expect(seen.filter((c) => c > 0 && c < 4).length).toBeGreaterThan(0);
    expect(await page.evaluate('window.sameDocument')).toBe(true);
    await expect.poll(() => page.locator('#live-head .stop-reason').textContent(), SHOWN).toBe('budget_sessions');
    expect(await page.locator('table.board tbody tr').count()).toBe(4);
    expect(list.problems).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'loop.png'), fullPage: true });

    // Pointing at a session names its decision and value; a secondary metric can be charted instead.
    await page.locator('.chart-wide circle.point[data-session="2"]').hover();
    expect(await page.locator('#chart-tip').textContent()).toBe('session 002 · promote · score 2');
    await page.getByRole('combobox', { name: 'Metric' }).selectOption('guard');
    await page.waitForURL(`**${loopPath}?metric=guard`);
    expect(await page.locator('.chart-wide svg.trend-chart').getAttribute('data-metric')).toBe('guard');
    expect(await page.locator('.chart-wide .best-line').count()).toBe(0);

    // The drill-down of session 2: report, diff against the best (session 3), reviews, flags.
    await page.getByRole('link', { name: '002' }).click();
    await page.waitForURL(`**${loopPath}/sessions/2`);
    await expect.poll(() => page.locator('#live-report').textContent(), SHOWN).toContain('x = 2');
    expect(await page.locator('#live-diff pre.patch').textContent()).toContain('-3\n+2');
    expect(await page.locator('#live-reviews .verdict').first().textContent()).toBe('supported');
    expect(await page.locator('#live-flags tbody tr').count()).toBeGreaterThan(3);
    await page.screenshot({ path: join(SHOTS, 'session.png'), fullPage: true });

    // On a phone, dark: no page that scrolls sideways.
    for (const [path, shot] of [
      ['/', 'loops-phone.png'],
      [loopPath, 'loop-phone.png'],
      [`${loopPath}/sessions/2`, 'session-phone.png'],
    ] as const) {
      const phone = await openPage(path, PHONE);
      await phone.page.waitForSelector('#live-head, #live-loops');
      expect([path, await pageOverflow(phone.page)]).toEqual([path, 0]);
      await phone.page.screenshot({ path: join(SHOTS, shot), fullPage: true });
      expect(phone.problems).toEqual([]);
    }
  });

  test('Stop now, then Confirm, ends a loop whose agent runs a process tree: user_stop, every process gone, the reason on the page', async () => {
    const { root, handle, loopPath } = await startLoop({
      budget: { sessions: 3, perRun: '5m' },
      reviewers: [],
      executor: { name: 'hang', agent: 'shell', command: node('spawn-tree.mjs', 'tree.json') },
    });
    const tree = await until(
      async () => JSON.parse(await readFile(join(root, 'tree.json'), 'utf8')) as Record<string, number>,
      'the agent tree',
    );
    const { page, problems } = await openPage(loopPath);
    // What runs now: the agent, and the last lines of its output.
    await expect.poll(() => page.locator('#live-now dd strong').textContent(), SHOWN).toBe('HANG');
    await expect
      .poll(() => page.locator('#live-now pre.log').textContent(), SHOWN)
      .toMatch(/^started child \d+ grandchild \d+$/);
    await page.screenshot({ path: join(SHOTS, 'loop-running.png'), fullPage: true });

    await page.getByRole('button', { name: 'Stop now' }).click();
    expect(await page.locator('#confirm-text').textContent()).toBe(
      'Stop now? The running agent is cancelled and the session closes now.',
    );
    expect(Object.values(tree).map(isAlive)).toEqual([true, true, true]);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect
      .poll(() => page.locator('#answer').textContent(), SHOWN)
      .toBe('Stop now: accepted — stopping now: the running agent is cancelled');
    await until(async () => Object.values(tree).every((pid) => !isAlive(pid)), 'the process group to be gone', 10_000);
    const result = (await handle.result()) as LoopResult;
    expect(result.stopReason).toBe('user_stop');
    await expect.poll(() => page.locator('#live-head .stop-reason').textContent(), SHOWN).toBe('user_stop');
    expect(await page.getByRole('button', { name: 'Pause' }).isDisabled()).toBe(true);
    expect(problems).toEqual([]);
  });

  test("an ask_user approval shows its question; a wrong button gets the validator's reason; Approve applies the answer", async () => {
    const evidence = {
      command: `${JSON.stringify(process.execPath)} eval.mjs`,
      metric: 'score',
      direction: 'maximize' as const,
      protect: ['guard >= 1'],
      success: ['score >= 1'],
      minDelta: 0,
    };
    const { handle, loopPath } = await startLoop({ budget: { sessions: 3 }, reviewers: [], evidence });
    const { page, problems } = await openPage(loopPath);
    const question = page.locator('#live-pending .question');
    await expect
      .poll(() => question.textContent(), { timeout: 20_000 })
      .toBe(
        'rule 5: 1 beats best 0 (session 000) by more than 0; every success criterion holds (score >= 1): approve stops, deny keeps going',
      );
    expect(await page.locator('#live-pending p.muted').textContent()).toBe(
      'session 001 decided ask_user and waits for a human answer: approve stops the loop, deny applies keep and goes on',
    );
    await page.screenshot({ path: join(SHOTS, 'loop-approval.png'), fullPage: true });

    await page.getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => page.locator('#answer').textContent(), SHOWN)
      .toBe('Resume: rejected — the loop is not paused');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => page.locator('#answer').textContent(), SHOWN)
      .toBe('Approve: accepted — approved session 1');
    const result = (await handle.result()) as LoopResult;
    expect([result.stopReason, result.history.map((h) => h.class)]).toEqual(['goal_met', ['ask_user']]);
    await expect.poll(() => page.locator('#live-head .stop-reason').textContent(), SHOWN).toBe('goal_met');
    await expect.poll(() => page.locator('#live-pending').innerHTML(), SHOWN).toBe('');
    // The refused Resume is a 409, which Chromium logs; nothing else went wrong.
    expect(problems).toEqual([
      'console: Failed to load resource: the server responded with a status of 409 (Conflict)',
    ]);
  });

  test('Redirect from the page reaches the next executor prompt and the interventions log', async () => {
    // Session 1's executor runs until the redirect is in, so the redirect is for session 2.
    const release = join(await testdir(), 'release');
    const { root, handle, loopPath } = await startLoop(
      { budget: { sessions: 2 }, reviewers: [] },
      { 'plan.json': JSON.stringify({ lingerUntil: { 1: release } }) },
    );
    const { page, problems } = await openPage(loopPath);
    await expect.poll(() => page.locator('#live-head .phase').textContent(), SHOWN).toBe('executing');
    await page
      .getByRole('textbox', { name: 'Redirect: what the next sessions should do instead' })
      .fill('try <b>bold</b> steps of 10 on the x axis');
    await page.getByRole('button', { name: 'Redirect' }).click();
    await expect
      .poll(() => page.locator('#answer').textContent(), SHOWN)
      .toBe(
        'Redirect: accepted — the next executor prompt and EXECUTOR_BRIEF.md will carry: try <b>bold</b> steps of 10 on the x axis',
      );
    await expect
      .poll(() => page.locator('#live-interventions td').nth(3).textContent(), SHOWN)
      .toBe('try <b>bold</b> steps of 10 on the x axis');
    expect(await page.locator('#live-interventions b').count()).toBe(0);
    await writeFile(release, '');
    await handle.result();
    expect(
      await readFile(join(root, 'loop_station/sessions/session_002/runs/TOY_EXEC-EXECUTOR.prompt.md'), 'utf8'),
    ).toMatch(/^- try <b>bold<\/b> steps of 10 on the x axis$/m);
    // The history says who sent it: the dashboard's client identity.
    const accepted = (await handle.fetchHistory()).events!.flatMap((e) =>
      e.workflowExecutionUpdateAcceptedEventAttributes ? [e.workflowExecutionUpdateAcceptedEventAttributes] : [],
    );
    expect(accepted.map((a) => [a.acceptedRequest?.input?.name, a.acceptedRequest?.meta?.identity])).toEqual([
      ['redirect', `loop-station-ui@${hostname()}`],
    ]);
    expect(problems).toEqual([]);
  });
});

describe('loop-station ui off loopback', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  test('prints a link with a generated token; without it: 401; a POST from another origin: 403; SIGTERM ends it', async () => {
    const child = spawn(
      process.execPath,
      cli(['ui', '--host', '0.0.0.0', '--port', '0', '--address', inject('temporalAddress')]),
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += String(d)));
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const line = await until(
      async () =>
        /^dashboard: http:\/\/[^:/]+:(\d+)\/\?token=([\w-]{32})$/m.exec(stdout) ??
        (child.exitCode === null ? undefined : `exited: ${stderr}`),
      'the dashboard line',
      30_000,
    );
    if (typeof line === 'string') throw new Error(line);
    const [port, token] = [line[1]!, line[2]!];
    // The warning goes to stderr, a pipe of its own: it may arrive after the link on stdout.
    const warning = /^the dashboard answers off this machine: the link holds its token/m;
    await until(async () => warning.test(stderr) || undefined, 'the off-loopback warning on stderr', 10_000);
    expect(stderr).toMatch(warning);
    const base = `http://127.0.0.1:${port}`;

    const bare = await fetch(`${base}/`);
    expect([bare.status, ((await bare.json()) as { error: string }).error]).toEqual([
      401,
      expect.stringMatching(/^a token is required/),
    ]);
    expect((await fetch(`${base}/?token=wrong-${token}`)).status).toBe(401);
    const visit = await fetch(`${base}/?token=${token}`, { redirect: 'manual' });
    expect([visit.status, visit.headers.get('location')]).toEqual([303, '/']);
    const cookie = visit.headers.get('set-cookie')!;
    expect(cookie).toBe(`loop_station_token=${token}; HttpOnly; SameSite=Strict; Path=/`);
    const page = await fetch(`${base}/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect([page.status, page.headers.get('content-security-policy')]).toEqual([
      200,
      expect.stringContaining("script-src 'self'"),
    ]);
    expect(await page.text()).toContain('<h1>Loops</h1>');

    const post = (headers: Record<string, string>) =>
      fetch(`${base}/loops/loop-nobody/control/pause`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    expect((await post({ origin: base })).status).toBe(401);
    const foreign = await post({ authorization: `Bearer ${token}`, origin: 'http://evil.example' });
    expect([foreign.status, ((await foreign.json()) as { error: string }).error]).toEqual([
      403,
      "cross-origin request refused: controls are accepted only from the dashboard's own pages",
    ]);
    expect((await post({ cookie: cookie.split(';')[0]!, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Same origin, with the token: it reaches Temporal, which has no such loop.
    const own = await post({ authorization: `Bearer ${token}`, origin: base });
    expect([own.status, await own.json()]).toEqual([
      404,
      { accepted: false, status: 404, reason: 'loop-nobody is not running: it has ended, or there is no such loop' },
    ]);

    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
  });
});
