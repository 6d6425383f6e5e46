import { describe, expect, test } from 'vitest';
import {
  type ChartPoint,
  legendEntries,
  linearScale,
  niceTicks,
  renderTrendChart,
  renderTrendLegend,
  sessionTicks,
  stepDecimals,
  stepPath,
  tickStep,
} from './trend-chart.js';

/** The demo's 12 sessions (leaderboard.csv of a real run). */
const DEMO: ChartPoint[] = [
  [0, 23.3111, 23.3111, 'baseline'],
  [1, 28.2305, 28.2305, 'promote'],
  [2, 28.5095, 28.5095, 'promote'],
  [3, 28.5095, 28.5095, 'keep'],
  [4, 28.5581, 28.5095, 'keep'],
  [5, 29.8319, 29.8319, 'promote'],
  [6, 29.803, 29.8319, 'keep'],
  [7, 29.803, 29.8319, 'pivot_axis'],
  [8, 29.8319, 29.8319, 'keep'],
  [9, 30.0242, 30.0242, 'promote'],
  [10, 30.0242, 30.0242, 'keep'],
  [11, 29.934, 30.0242, 'return_to_best'],
  [12, 30.0242, 30.0242, 'stop'],
].map(([session, value, best, decision]) => ({ session, value, best, decision }) as ChartPoint);

const attrs = (svg: string, cls: string) =>
  [...svg.matchAll(new RegExp(`<(?:circle|path) class="${cls}[^"]*"([^>]*)>`, 'g'))].map((m) =>
    Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  );

describe('scales and ticks', () => {
  test('tick steps are 1, 2 or 5 times a power of ten', () => {
    expect([tickStep(6.7131, 6), tickStep(0.83, 6), tickStep(50, 6), tickStep(0.5, 6), tickStep(1234, 5)]).toEqual([
      1, 0.1, 10, 0.1, 200,
    ]);
    expect([stepDecimals(1), stepDecimals(0.1), stepDecimals(0.05), stepDecimals(0.2), stepDecimals(20)]).toEqual([
      0, 1, 2, 1, 0,
    ]);
  });

  test('nice ticks widen the domain to whole steps, with exact decimals', () => {
    expect(niceTicks(23.3111, 30.0242)).toEqual({
      min: 23,
      max: 31,
      step: 1,
      ticks: [23, 24, 25, 26, 27, 28, 29, 30, 31],
    });
    expect(niceTicks(0.1, 0.93)).toEqual({
      min: 0.1,
      max: 1,
      step: 0.1,
      ticks: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    });
    expect(niceTicks(-3, 47)).toEqual({ min: -10, max: 50, step: 10, ticks: [-10, 0, 10, 20, 30, 40, 50] });
    expect(niceTicks(0.81, 0.92, 5)).toEqual({
      min: 0.8,
      max: 0.92,
      step: 0.02,
      ticks: [0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92],
    });
  });

  test('a flat or empty range is opened up instead of dividing by zero', () => {
    expect(niceTicks(5, 5)).toEqual({ min: 4.7, max: 5.3, step: 0.1, ticks: [4.7, 4.8, 4.9, 5, 5.1, 5.2, 5.3] });
    expect(niceTicks(0, 0).ticks).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  test('a linear scale maps the domain onto the range, inverted ranges included', () => {
    const y = linearScale([23, 31], [300, 20]);
    expect([y(23), y(31), y(27)]).toEqual([300, 20, 160]);
    expect(linearScale([2, 2], [0, 100])(7)).toBe(50);
  });

  test('sessions are all labelled up to 16, then on a nice step', () => {
    expect(sessionTicks(0, 12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(sessionTicks(0, 60)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
    expect(sessionTicks(3, 2)).toEqual([]);
  });

  test('the step path holds each value until the next one', () => {
    expect(
      stepPath([
        { x: 0, y: 10 },
        { x: 5, y: 10 },
        { x: 10, y: 4 },
        { x: 15.556, y: 4 },
      ]),
    ).toBe('M0 10 H5 H10 V4 H15.56');
    expect(stepPath([])).toBe('');
  });
});

describe('renderTrendChart', () => {
  test('draws one point per session with its session and value', () => {
    const svg = renderTrendChart(DEMO, { metric: 'psnr', direction: 'maximize', bestSession: 9 });
    const points = attrs(svg, 'point');
    expect(points).toHaveLength(13);
    expect(points.map((p) => [Number(p['data-session']), Number(p['data-value']), p['data-decision']])).toEqual(
      DEMO.map((p) => [p.session, p.value, p.decision]),
    );
    expect(svg).toContain('data-points="13"');
  });

  test('the best line is a step line ending at the best value, at the last session', () => {
    const svg = renderTrendChart(DEMO, { metric: 'psnr', direction: 'maximize', bestSession: 9 });
    const [line] = attrs(svg, 'best-line');
    expect(line!['data-last-value']).toBe('30.0242');
    const last = attrs(svg, 'point').at(-1)!;
    expect(line!.d!.endsWith(`H${last.cx}`)).toBe(true);
    expect(line!.d!.split(' V')).toHaveLength(5); // 000 → 001 → 002 → 005 → 009: four rises
    expect(svg).toContain('best 30.0242 (session 009)');
    // Ending on a worse session (011, return_to_best at 29.934), the line still ends at the best.
    const [worseLast] = attrs(
      renderTrendChart(DEMO.slice(0, 12), { metric: 'psnr', direction: 'maximize', bestSession: 9 }),
      'best-line',
    );
    expect(worseLast!['data-last-value']).toBe('30.0242');
  });

  test('higher values sit higher; minimize says lower is better and keeps the axis natural', () => {
    const points: ChartPoint[] = [
      { session: 0, value: 0.92, best: 0.92, decision: 'baseline' },
      { session: 1, value: 0.85, best: 0.85, decision: 'promote' },
      { session: 2, value: 0.88, best: 0.85, decision: 'return_to_best' },
      { session: 3, value: 0.81, best: 0.81, decision: 'promote' },
    ];
    const svg = renderTrendChart(points, { metric: 'loss', direction: 'minimize', bestSession: 3 });
    const cy = attrs(svg, 'point').map((p) => Number(p.cy));
    expect(cy[0]).toBeLessThan(cy[1]!);
    expect(cy[3]).toBeGreaterThan(cy[1]!);
    expect(attrs(svg, 'best-line')[0]!['data-last-value']).toBe('0.81');
    expect(svg).toContain('loss: ↓ lower is better');
    expect(svg).toContain('data-direction="minimize"');
  });

  test('a session without a value is a hollow point on the axis, not a gap in the count', () => {
    const svg = renderTrendChart(
      [
        { session: 1, value: 3, best: 3, decision: 'promote' },
        { session: 2, value: null, best: 3, decision: null },
      ],
      { metric: 'm', direction: 'maximize' },
    );
    expect(attrs(svg, 'point').map((p) => [p.class, p['data-value'], p['data-decision']])).toEqual([
      [undefined, '3', 'promote'],
      [undefined, '', 'not recorded'],
    ]);
    expect(svg).toContain('class="point point-missing"');
  });

  test('no values at all still give an empty, labelled chart', () => {
    const svg = renderTrendChart([], { metric: 'psnr', direction: 'maximize' });
    expect(attrs(svg, 'point')).toHaveLength(0);
    expect(svg).not.toContain('best-line');
    expect(svg).toContain('no psnr values recorded');
  });

  test('text from the folder is escaped inside the SVG', () => {
    const svg = renderTrendChart([{ session: 1, value: 1, best: 1, decision: '<b>x</b>' }], {
      metric: '<script>alert(1)</script>',
      direction: 'maximize',
    });
    expect(svg).not.toMatch(/<script|<b>/);
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('data-decision="&lt;b&gt;x&lt;/b&gt;"');
  });

  test('the legend lists the classes present, in a fixed order', () => {
    expect(legendEntries(DEMO).map((e) => e.key)).toEqual([
      'baseline',
      'promote',
      'keep',
      'return_to_best',
      'pivot_axis',
      'stop',
    ]);
    expect(legendEntries([{ session: 1, value: 1, best: 1, decision: 'weird' }]).map((e) => e.label)).toEqual([
      'not recorded',
    ]);
  });

  test('a secondary metric claims no direction and draws no best line', () => {
    const points = DEMO.map((p) => ({ ...p, best: null }));
    const svg = renderTrendChart(points, { metric: 'ssim', direction: null });
    expect(svg).toContain('ssim: secondary metric (not optimized)');
    expect(svg).toContain('data-direction="none"');
    expect(svg).not.toContain('best-line');
    expect(renderTrendLegend(points)).not.toContain('best so far');
  });

  test('two charts on one page get their own title ids; a narrow one labels fewer sessions', () => {
    const wide = renderTrendChart(DEMO, { metric: 'psnr', direction: 'maximize', idPrefix: 'wide' });
    const narrow = renderTrendChart(DEMO, {
      metric: 'psnr',
      direction: 'maximize',
      idPrefix: 'narrow',
      width: 380,
      height: 300,
    });
    expect(wide).toContain('aria-labelledby="wide-title wide-desc"');
    expect(narrow).toContain('<title id="narrow-title">');
    const labels = (svg: string) => [...svg.matchAll(/data-session="(\d+)">/g)].map((m) => Number(m[1]));
    expect(labels(wide)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(labels(narrow)).toEqual([0, 2, 4, 6, 8, 10, 12]);
  });
});
