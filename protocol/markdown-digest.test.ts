import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { digestMarkdown } from './markdown-digest.js';
import { sectionBody } from './markdown.js';
import { viewerReads } from '../test/helpers/markdown-viewer.js';

/** A review as agents write it: every construct a summary must keep, and some it must defuse. */
const REVIEW = readFileSync(
  fileURLToPath(new URL('../test/fixtures/markdown/review-rich.md', import.meta.url)),
  'utf8',
);

const reads = (text: string) => viewerReads(text);

const JS_REMOVED = ' (link removed: javascript: links are not followed)';

describe('digestMarkdown', () => {
  test('keeps lists, nesting, code blocks, tables and links; joins wrapped lines; makes raw HTML inert outside code; re-bases relative links', () => {
    expect(
      digestMarkdown(sectionBody(REVIEW.replace(/\n/g, '  \r\n'), 'Risks Or Confounds'), {
        from: 'loop_station/reviews/session_001',
        to: 'loop_station/summaries',
      }),
    ).toBe(
      [
        'Two risks, in order:',
        '',
        '1. single seed: the gain may be noise',
        '   - seeds 1–3 not run',
        '     - nor the held-out set',
        '2. the evaluator &lt;script>alert(1)&lt;/script> reads &lt;img src=x onerror=alert(1)>',
        '',
        '```python',
        '## not a heading: inside the fence',
        'if psnr < best: <b>retire</b>',
        '```',
        '',
        '| seed | psnr |',
        '| --- | --- |',
        '| 1 | 28.1 |',
        '',
        `See [the log](../sessions/session_001/runs/eval.log), not this${JS_REMOVED}.`,
      ].join('\n'),
    );
  });

  test('a list of one item is its text; a rule stays a rule', () => {
    expect(digestMarkdown('- `pivot_axis`: no train gain on this axis.')).toBe(
      '`pivot_axis`: no train gain on this axis.',
    );
    expect(digestMarkdown('* keep\n')).toBe('keep');
    expect(digestMarkdown('- - -')).toBe('- - -');
    expect(digestMarkdown('- a\n- b')).toBe('- a\n- b');
  });

  test('a plain paragraph becomes one line, as before', () => {
    expect(digestMarkdown('single seed;\nthe gain\n  is within noise')).toBe('single seed; the gain is within noise');
    expect(digestMarkdown(undefined)).toBe('');
    expect(digestMarkdown(' \n\n ')).toBe('');
  });

  test('blank lines: at most one in a row outside code, all of them inside', () => {
    expect(digestMarkdown('a\n\n\n\nb\n\n```\nx\n\n\ny\n```')).toBe('a\n\nb\n\n```\nx\n\n\ny\n```');
  });

  test('a backslash hard break and a quote keep their lines', () => {
    expect(digestMarkdown('one\\\ntwo\n\n> quoted\n> more')).toBe('one\\\ntwo\n\n> quoted\n> more');
  });

  test('too long: cut between lines of a code block, the fence closed, then …', () => {
    const text = [
      'Intro.',
      '',
      '```js',
      ...Array.from({ length: 40 }, (_, i) => `line(${i});`),
      '```',
      '',
      'after',
    ].join('\n');
    const digest = digestMarkdown(text, undefined, 120);
    expect(digest).toBe(
      ['Intro.', '', '```js', ...Array.from({ length: 11 }, (_, i) => `line(${i});`), '```', '…'].join('\n'),
    );
    expect(digest.length).toBeLessThanOrEqual(120);
  });

  test('too long: a text line is cut inside, at a space if one is near, with …', () => {
    expect(digestMarkdown(`- a\n- ${'word '.repeat(40)}`, undefined, 60)).toBe(
      '- a\n- word word word word word word word word word word…',
    );
    expect(digestMarkdown('x'.repeat(700), undefined, 600)).toBe(`${'x'.repeat(599)}…`);
  });

  test('a nested fence in a list item is closed at its own indentation', () => {
    const text = ['- step', '  ```sh', ...Array.from({ length: 20 }, () => '  make all'), '  ```'].join('\n');
    expect(digestMarkdown(text, undefined, 60)).toBe(
      ['- step', '  ```sh', '  make all', '  make all', '  make all', '  ```', '…'].join('\n'),
    );
  });

  test('remote images become links, blocked links text; a relative image stays, re-based; code is left alone', () => {
    const section = [
      'Loss: ![curve](plots/loss.png) vs ![theirs](https://tracker.example/p.png?id=7)',
      '',
      '- rerun [the log](../../sessions/session_001/runs/eval.log),',
      '  not [this](JaVaScRiPt:alert(1)) <javascript:alert(2)>',
      '- ![inline](data:image/png;base64,AAAA) ![far](//tracker.example/p.png) ![ref][t]',
      '',
      '`![kept](https://tracker.example/p.png)`',
      '',
      '[t]: https://tracker.example/t.png',
    ].join('\n');
    expect(reads(section).images).toHaveLength(5);
    const digest = digestMarkdown(section, { from: 'loop_station/reviews/session_001', to: 'loop_station/summaries' });
    expect(digest).toBe(
      [
        'Loss: ![curve](../reviews/session_001/plots/loss.png) vs [theirs](https://tracker.example/p.png?id=7)',
        '',
        `- rerun [the log](../sessions/session_001/runs/eval.log), not this${JS_REMOVED} &lt;javascript:alert(2)>`,
        '- inline (link removed: data: links are not followed)' +
          ' far (link removed: absolute paths are not followed) [ref][t]',
        '',
        '`![kept](https://tracker.example/p.png)`',
        '',
        '[t]: https://tracker.example/t.png',
      ].join('\n'),
    );
    expect(reads(digest)).toEqual({
      images: ['../reviews/session_001/plots/loss.png'],
      links: [
        'https://tracker.example/p.png?id=7',
        '../sessions/session_001/runs/eval.log',
        'https://tracker.example/t.png',
      ],
    });
  });

  test('too long: a cut inside a code span frees no image and no blocked link, and the digest still fits', () => {
    const image = `${'x'.repeat(30)} \`![a](https://tracker.example/p.png)${'y'.repeat(40)}\``;
    const link = `${'x'.repeat(30)} \`[a](javascript:alert(1))${'y'.repeat(40)}\``;
    for (const line of [image, link]) {
      const digest = digestMarkdown(line, undefined, 80);
      expect(digest.length).toBeLessThanOrEqual(80);
      expect(digest.startsWith(`${'x'.repeat(30)} \``)).toBe(true);
      expect(reads(digest)).toEqual({ images: [], links: line === image ? ['https://tracker.example/p.png'] : [] });
    }
    expect(digestMarkdown(image, undefined, 80)).toBe(
      `${'x'.repeat(30)} \`[a](https://tracker.example/p.png)${'y'.repeat(12)}…`,
    );
  });
});
