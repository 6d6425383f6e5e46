import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LoopStatus } from '../../protocol/schemas/messages.js';
import { type ControlAnswer, type ControlName, controlPayload } from '../../ui/control.js';
import { type Dashboard, routePage, startDashboard } from '../../ui/server.js';
import type { LoopSnapshot, LoopSource, LoopSummary } from '../../ui/temporal-source.js';
import { reportFixture } from '../helpers/report-fixture.js';
import { testdir } from '../helpers/testdir.js';

/**
 * The dashboard's server in-process with a source of fixed loops (no Temporal here): routing,
 * static files, the control endpoint, the events stream, the allowed roots, and that every text
 * from a loop reaches the page escaped.
 */

const EVIL = '<script>alert(1)</script>';

// Credentials an agent found and wrote down; built from parts, so no scanner takes them for live keys.
const FOUND = {
  openai: ['sk-proj-', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij'].join(''),
  github: ['ghp_', '16C7e42F292c6912E7710c838347Ae178B4a'].join(''),
  huggingFace: ['hf_', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'].join(''),
  slack: ['xoxb-', '1234567890-abcdefghijKLMN'].join(''),
  aws: ['AKIA', 'IOSFODNN7EXAMPLE'].join(''),
  google: ['AIza', 'SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q'].join(''),
  password: 'hunter2-horse',
};

function status(over: Partial<LoopStatus> & Pick<LoopStatus, 'workflowId' | 'root'>): LoopStatus {
  return {
    name: over.workflowId.replace(/^loop-/, ''),
    goal: 'raise psnr',
    phase: 'executing',
    session: 12,
    metric: 'psnr',
    direction: 'maximize',
    best: { session: 9, value: 30.0242 },
    baseline: 23.3,
    history: [],
    budget: { sessions: 12, wallClockMs: null, tokens: null, costUsd: null },
    used: { sessions: 11, wallClockMs: 40_000, tokens: 0, costUsd: 0 },
    warnings: [],
    lastDecision: null,
    pending: null,
    paused: false,
    stopRequested: null,
    stopReason: null,
    interventions: [],
    startedAt: '2026-11-25T00:30:00.000Z',
    updatedAt: '2026-11-25T00:31:00.000Z',
    ...over,
  };
}

class FakeSource implements LoopSource {
  readonly namespace = 'default';
  readonly calls: [string, ControlName, unknown][] = [];
  constructor(readonly loops: Map<string, LoopStatus>) {}
  list(): Promise<LoopSummary[]> {
    return Promise.resolve(
      [...this.loops.values()].map((s) => ({
        workflowId: s.workflowId,
        name: s.name,
        runStatus: 'RUNNING',
        phase: s.phase,
        session: s.session,
        sessions: s.budget.sessions,
        metric: s.metric,
        best: s.best,
        used: s.used,
        budget: s.budget,
        stopReason: null,
        pending: null,
        startTime: s.startedAt,
        closeTime: null,
        lastChange: s.updatedAt,
      })),
    );
  }
  snapshot(workflowId: string): Promise<LoopSnapshot | null> {
    const s = this.loops.get(workflowId);
    return Promise.resolve(
      s
        ? {
            workflowId,
            runStatus: 'RUNNING',
            startTime: s.startedAt,
            closeTime: null,
            status: s,
            result: null,
            problem: null,
            memo: { goal: s.goal, metric: s.metric, direction: s.direction, root: s.root, sessions: s.budget.sessions },
          }
        : null,
    );
  }
  control(workflowId: string, name: ControlName, input: unknown): Promise<ControlAnswer> {
    this.calls.push([workflowId, name, input]);
    return Promise.resolve({ accepted: true, message: `${name} ok` });
  }
  temporalLink(workflowId: string): string {
    return `http://ui.invalid/namespaces/default/workflows/${encodeURIComponent(workflowId)}`;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function writeTree(root: string, tree: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(tree)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  }
}

let dashboard: Dashboard;
let source: FakeSource;
let base: string;

beforeAll(async () => {
  const allowed = await testdir({}, 'loop-station-ui-allowed-');
  const demo = await reportFixture('engine-denoise');
  const evil = join(allowed, 'evil');
  await writeTree(evil, {
    'loop_station/contract.json': JSON.stringify({
      loop_name: EVIL,
      goal: { summary: EVIL },
      evidence: { metric: 'score', direction: 'maximize' },
    }),
    'loop_station/sessions/session_001/executor_report.md': `agent: X\nsession: 001\naxis: ${EVIL}\n\n## Results\n<img src=x onerror=alert(2)> and **bold** ${EVIL}\n`,
    'loop_station/sessions/session_001/decision.md': `# Decision\n\n\`\`\`loop-station-decision\nclass: keep\nsession: 001\nreason: ${EVIL}\n\`\`\`\n`,
    'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md': `agent: REV\nverdict: <b>odd</b>\nrecommendation: ${EVIL}\n\n## Verdict\n${EVIL}\n`,
    'loop_station/flags/session_001/X-SESSION001-EXECUTOR-RUNNING.flag': `timestamp: 2026-11-25T00:30:01.000Z\nproducer: X\nrole: EXECUTOR\nsession: 001\nstatus: RUNNING\nseq: 1\nnote: ${EVIL}\n`,
    'loop_station/sessions/session_001/runs/X-EXECUTOR.log': `first line\n\x1b[31mred\x1b[0m ${EVIL}\n`,
  });
  const leaky = join(allowed, 'leaky');
  const manifest = JSON.stringify({ variant_files: [{ source_path: 'train.py', path: 'files/train.py' }] });
  await writeTree(leaky, {
    'loop_station/contract.json': JSON.stringify({
      loop_name: 'leaky',
      goal: { summary: 'g' },
      evidence: { metric: 'score', direction: 'maximize' },
    }),
    'loop_station/sessions/session_001/executor_report.md': `agent: X\nsession: 001\n\n## Results\nthe key ${FOUND.openai} in config.py is exposed\n`,
    'loop_station/sessions/session_001/decision.md': `# Decision\n\n\`\`\`loop-station-decision\nclass: keep\nsession: 001\nreason: ${FOUND.huggingFace} leaked\n\`\`\`\n`,
    'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md': `agent: REV\nverdict: ok\nrecommendation: revoke ${FOUND.github}\n\n## Verdict\nsaw postgres://ada:${FOUND.password}@db:5432/x\n`,
    'loop_station/flags/session_001/X-SESSION001-EXECUTOR-RUNNING.flag': `timestamp: 2026-11-25T00:30:01.000Z\nproducer: X\nrole: EXECUTOR\nsession: 001\nstatus: RUNNING\nseq: 1\nnote: using ${FOUND.slack}\n`,
    'loop_station/sessions/session_001/runs/X-EXECUTOR.log': `${JSON.stringify({ type: 'item', text: `cat .env\n${FOUND.aws}` })}\n`,
    'loop_station/code_variants/session_000/baseline/manifest.json': manifest,
    'loop_station/code_variants/session_000/baseline/files/train.py': 'KEY = None\n',
    'loop_station/code_variants/session_001/candidate/manifest.json': manifest,
    'loop_station/code_variants/session_001/candidate/files/train.py': `KEY = "${FOUND.google}"\n`,
  });
  // A root inside the allowed folder whose loop_station/ is a link to a folder outside it.
  const linked = join(allowed, 'linked');
  await mkdir(linked);
  await symlink(join(demo, 'loop_station'), join(linked, 'loop_station'));
  source = new FakeSource(
    new Map([
      ['loop-demo', status({ workflowId: 'loop-demo', root: demo, phase: 'finished', stopReason: 'budget_sessions' })],
      [
        'loop-evil',
        status({
          workflowId: 'loop-evil',
          root: evil,
          name: EVIL,
          goal: EVIL,
          session: 1,
          metric: 'score',
          interventions: [{ at: '2026-11-25T00:30:02.000Z', kind: 'redirect', session: 1, note: EVIL, via: 'update' }],
        }),
      ],
      ['loop-outside', status({ workflowId: 'loop-outside', root: demo.replace(/[^/]+$/, 'elsewhere') })],
      ['loop-linked', status({ workflowId: 'loop-linked', root: linked })],
      [
        'loop-leaky',
        status({ workflowId: 'loop-leaky', root: leaky, session: 1, metric: 'score', best: { session: 0, value: 1 } }),
      ],
    ]),
  );
  dashboard = await startDashboard({ source, allowRoots: [allowed, demo], port: 0, refreshMs: 50 });
  base = dashboard.url.replace(/\/$/, '');
});

afterAll(async () => {
  await dashboard.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', origin: base, ...headers },
  });

describe('routing', () => {
  test.for([
    ['/', 'loops'],
    ['/loops/loop-demo', 'loop'],
    ['/loops/a%2Fb', 'loop'],
    ['/loops/loop-demo/sessions/9', 'session'],
    ['/loops', null],
    ['/loops/x/sessions/abc', null],
    ['/loops/x/y', null],
    ['/loops/%E0%A4%A', null],
  ] as const)('%s → %s', ([path, want]) => {
    const route = routePage(path);
    expect(route ? route.page.name.replace(/Page$/, '') : null).toBe(want);
  });

  test('pages answer HTML under a CSP with no inline script; unknown loops and paths are 404', async () => {
    const home = await get('/');
    expect([home.status, home.headers.get('content-type'), home.headers.get('content-security-policy')]).toEqual([
      200,
      'text/html; charset=utf-8',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ]);
    const html = await home.text();
    expect(html.match(/<tr data-loop="[^"]+"/g)).toEqual([
      '<tr data-loop="loop-demo"',
      '<tr data-loop="loop-evil"',
      '<tr data-loop="loop-outside"',
      '<tr data-loop="loop-linked"',
      '<tr data-loop="loop-leaky"',
    ]);
    expect(html).not.toMatch(/<script>|style="/);
    expect((await get('/loops/loop-demo')).status).toBe(200);
    expect((await get('/loops/loop-demo/sessions/9')).status).toBe(200);
    const missing = await get('/loops/loop-nope', { accept: 'text/html' });
    expect([
      missing.status,
      (await missing.text()).includes('There is no loop loop-nope in namespace default.'),
    ]).toEqual([404, true]);
    expect([(await get('/nothing')).status, (await get('/loops/loop-demo/sessions/99')).status]).toEqual([404, 404]);
  });

  test('static files: the two assets, nothing else', async () => {
    const js = await get('/static/dashboard.js');
    expect([js.status, js.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    const css = await (await get('/static/dashboard.css')).text();
    expect(css).toMatch(/^\.badge-promote\{--c:#009e73\}$/m);
    for (const path of ['/static/server.ts', '/static/..%2Fserver.ts', '/static/../server.ts', '/static/'])
      expect([path, (await get(path)).status]).toEqual([path, 404]);
  });

  test('the phase filter keeps matching loops', async () => {
    const html = await (await get('/?phase=finished')).text();
    expect(html.match(/<tr data-loop="[^"]+"/g)).toEqual(['<tr data-loop="loop-demo"']);
  });
});

describe('controls', () => {
  test('a control reaches the source with its fields; unknown controls, bad JSON and big bodies do not', async () => {
    const res = await post('/loops/loop-demo/control/redirect', JSON.stringify({ note: 'try y' }));
    expect([res.status, await res.json()]).toEqual([200, { accepted: true, message: 'redirect ok' }]);
    expect(source.calls.at(-1)).toEqual(['loop-demo', 'redirect', { note: 'try y' }]);
    expect((await post('/loops/a%2Fb/control/pause', '{}')).status).toBe(200);
    expect(source.calls.at(-1)).toEqual(['a/b', 'pause', {}]);
    const calls = source.calls.length;
    expect((await post('/loops/loop-demo/control/explode', '{}')).status).toBe(404);
    expect((await post('/loops/loop-demo/control/pause', '{not json')).status).toBe(400);
    expect((await post('/loops/loop-demo/control/pause', JSON.stringify({ note: 'x'.repeat(70_000) }))).status).toBe(
      413,
    );
    expect((await post('/loops/loop-demo/control/pause', '{}', { origin: 'http://evil.example' })).status).toBe(403);
    expect(
      (
        await fetch(`${base}/loops/loop-demo`, {
          method: 'DELETE',
          headers: { origin: base, 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(405);
    expect(source.calls.length).toBe(calls);
  });

  test.for([
    [
      'redirect',
      { note: '  ' },
      { ok: false, reason: 'note: must not be empty: say what the next sessions should do instead' },
    ],
    ['redirect', { note: ' try y ' }, { ok: true, input: { note: 'try y' } }],
    ['stop-now', { reason: 'enough' }, { ok: true, input: { mode: 'now', reason: 'enough' } }],
    ['stop', {}, { ok: true, input: { mode: 'after-session', reason: '' } }],
    ['approve', { session: '3', note: 'ok' }, { ok: true, input: { session: 3, note: 'ok' } }],
    ['deny', {}, { ok: false, reason: 'session: Invalid input: expected number, received undefined' }],
    [
      'extend',
      { sessions: '20', wallClock: '', tokens: '', costUsd: '' },
      { ok: true, input: { sessions: 20, note: '' } },
    ],
    ['extend', { wallClock: 'soon' }, { ok: false, reason: 'wallClock: must be a duration like 2h, 30m or 90s' }],
    ['extend', {}, { ok: false, reason: 'input: name at least one of sessions, wallClock, tokens, costUsd' }],
  ] as const)('%s %j → the payload its schema reads', ([name, fields, want]) => {
    expect(controlPayload(name, fields)).toEqual(want);
  });
});

describe('what a loop shows', () => {
  test('every text from the loop is escaped: names, goals, reports, reviews, flags, output, interventions', async () => {
    const loop = await (await get('/loops/loop-evil')).text();
    const session = await (await get('/loops/loop-evil/sessions/1')).text();
    for (const html of [loop, session]) {
      expect(html).not.toContain('<script>alert');
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('<b>odd</b>');
    }
    expect(loop).toContain('<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(loop).toContain('<pre class="log">first line\nred &lt;script&gt;alert(1)&lt;/script&gt;</pre>');
    expect(loop).toContain(
      '<td data-label="note">&lt;script&gt;alert(1)&lt;/script&gt;</td><td data-label="via">update</td>',
    );
    expect(session).toContain(
      '&lt;img src=x onerror=alert(2)&gt; and <strong>bold</strong> &lt;script&gt;alert(1)&lt;/script&gt;',
    );
    expect(session).toContain('<strong>Reason:</strong> &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(session).toContain('<span class="verdict verdict-other">&lt;b&gt;odd&lt;/b&gt;</span>');
  });

  test('a credential an agent wrote into its report, review, decision, flag, log or code is not served', async () => {
    const loop = await (await get('/loops/loop-leaky')).text();
    const session = await (await get('/loops/loop-leaky/sessions/1')).text();
    for (const [name, secret] of Object.entries(FOUND))
      expect([name, loop.includes(secret) || session.includes(secret)]).toEqual([name, false]);
    expect(loop).toContain('cat .env\\n[redacted: an AWS access key id]');
    expect(session).toContain('the key [redacted: an OpenAI API key] in config.py is exposed');
    expect(session).toContain('[redacted: a Hugging Face token] leaked');
    expect(session).toContain('revoke [redacted: a GitHub token]');
    expect(session).toContain('postgres://ada:[redacted: a password in a URL]@db:5432/x');
    expect(session).toContain('using [redacted: a Slack token]');
    expect(session).toContain('KEY = &quot;[redacted: a Google API key]&quot;');
  });

  test('a loop whose root is outside the allowed roots, or links out of its root, shows no files, and says why', async () => {
    const outside = await (await get('/loops/loop-outside')).text();
    expect(outside).toMatch(/<p class="problem">files not shown: \S+elsewhere: not under an allowed output root \(/);
    expect(outside).not.toContain('<table class="board">');
    const linked = await (await get('/loops/loop-linked')).text();
    expect(linked).toMatch(
      /<p class="problem">files not shown: loop_station: resolves through \S+\/linked\/loop_station to \S+, outside the root/,
    );
    expect(linked).not.toContain('<table class="board">');
  });

  test('the events stream sends every section first, then only the ones that changed', async () => {
    const res = await fetch(`${base}/events?page=${encodeURIComponent('/loops/loop-demo')}`);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    const next = async (want: RegExp) => {
      while (!want.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      const [event] = want.exec(text)!;
      text = text.slice(text.indexOf(event) + event.length);
      return JSON.parse(/^data: (.*)$/m.exec(event)![1]!) as Record<string, string>;
    };
    const first = await next(/event: sections\ndata: .*\n\n/);
    expect(Object.keys(first)).toEqual(['head', 'pending', 'now', 'chart', 'budget', 'board', 'interventions']);
    expect(first.board).toContain(
      '<a href="/loops/loop-demo/sessions/9">009</a> <span class="star" title="best">★</span>',
    );
    const demo = source.loops.get('loop-demo')!;
    source.loops.set('loop-demo', { ...demo, warnings: ['tokens at 90% of the budget'] });
    const second = await next(/event: sections\ndata: .*\n\n/);
    expect(Object.keys(second)).toEqual(['budget']);
    expect(second.budget).toContain('<li>tokens at 90% of the budget</li>');
    await reader.cancel();
  });

  test('a session: its decision, report, diff and pictures against the best, reviews', async () => {
    const html = await (await get('/loops/loop-demo/sessions/12')).text();
    expect(html).toContain('<h1>Session 012</h1>');
    expect(html).toContain('<h2>Pictures beside the best (009)</h2>');
    expect(html.match(/<img [^>]*alt="(session 012|best \(009\)) denoised\.png"/g)).toHaveLength(2);
    expect(html).toContain('<h2>Code against the best (session 009)</h2>');
    expect(html).toMatch(/<h3>SCRIPTED_REVIEWER <span class="verdict verdict-\w+">/);
  });
});
