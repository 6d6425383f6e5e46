import { describe, expect, test } from 'vitest';
import { renderMarkdownHtml, renderMarkdownInlineHtml, resolveHref } from './markdown-html.js';

const FROM_REVIEW = { sourceDir: 'loop_station/reviews/session_001', hrefBase: '..' };

describe('renderMarkdownHtml', () => {
  test('keeps ordered and nested lists, fenced code, tables and headings; paragraphs stay paragraphs', () => {
    const md = [
      'First line',
      'wrapped.',
      '',
      '1. widen conv1',
      '   - 32 → 64 channels',
      '     - then 96',
      '2. keep the seed',
      '',
      '```python',
      'if psnr < best:',
      '    retire()',
      '```',
      '',
      '### Detail',
      '',
      '| seed | psnr |',
      '| --- | ---: |',
      '| 1 | 28.1 |',
    ].join('\n');
    expect(renderMarkdownHtml(md, FROM_REVIEW)).toBe(
      [
        '<p>First line',
        'wrapped.</p>',
        '<ol>',
        '<li>widen conv1',
        '<ul>',
        '<li>32 → 64 channels',
        '<ul>',
        '<li>then 96</li>',
        '</ul>',
        '</li>',
        '</ul>',
        '</li>',
        '<li>keep the seed</li>',
        '</ol>',
        '<pre><code class="language-python">if psnr &lt; best:',
        '    retire()',
        '</code></pre>',
        '<h4>Detail</h4>',
        '<div class="scroll"><table class="md-table">',
        '<thead>',
        '<tr>',
        '<th>seed</th>',
        '<th style="text-align:right">psnr</th>',
        '</tr>',
        '</thead>',
        '<tbody>',
        '<tr>',
        '<td>1</td>',
        '<td style="text-align:right">28.1</td>',
        '</tr>',
        '</tbody>',
        '</table></div>',
        '',
      ].join('\n'),
    );
  });

  test('raw HTML is text: no tag, attribute or comment gets through, inline or as a block', () => {
    const md =
      'a <script>alert(1)</script> b\n\n<img src=x onerror=alert(1)>\n\n<div onclick="x()">\n\n<!-- hidden -->\n\n`<b>` **<i>x</i>**';
    expect(renderMarkdownHtml(md, FROM_REVIEW)).toBe(
      [
        '<p>a &lt;script&gt;alert(1)&lt;/script&gt; b</p>',
        '<p>&lt;img src=x onerror=alert(1)&gt;</p>',
        '<p>&lt;div onclick=&quot;x()&quot;&gt;</p>',
        '<p>&lt;!-- hidden --&gt;</p>',
        '<p><code>&lt;b&gt;</code> <strong>&lt;i&gt;x&lt;/i&gt;</strong></p>',
        '',
      ].join('\n'),
    );
  });

  test("a fenced block's info string cannot break out of its class attribute", () => {
    expect(renderMarkdownHtml('```"><script>x\ncode\n```', FROM_REVIEW)).toBe(
      '<pre><code class="language-&quot;&gt;&lt;script&gt;x">code\n</code></pre>\n',
    );
  });

  test('links: http(s) and mailto kept, relative ones resolved from the source file to the page, others left as text or marked removed', () => {
    const html = renderMarkdownHtml(
      '[a](https://example.org/x?q=1) [b](mailto:me@example.org) [c](plots/loss.png) [d](../session_002/CLAUDE-SESSION002-REVIEWER-DONE.md#risks) [e](javascript:alert(1)) [f](<java\tscript:alert(1)>) [g](&#106;avascript:alert(1)) [h](data:text/html;base64,PHNjcmlwdD4=) [i](../../../../etc/passwd) [j](/etc/passwd)',
      FROM_REVIEW,
    );
    expect(html).toBe(
      [
        '<p><a href="https://example.org/x?q=1" rel="noopener noreferrer">a</a>',
        '<a href="mailto:me@example.org" rel="noopener noreferrer">b</a>',
        '<a href="../loop_station/reviews/session_001/plots/loss.png">c</a>',
        '<a href="../loop_station/reviews/session_002/CLAUDE-SESSION002-REVIEWER-DONE.md#risks">d</a>',
        '[e](javascript:alert(1))',
        '[f](&lt;java\tscript:alert(1)&gt;)',
        '[g](javascript:alert(1))',
        '[h](data:text/html;base64,PHNjcmlwdD4=)',
        '<span class="link-removed" title="link removed: the path leads outside the loop folder">i</span>',
        '[j](/etc/passwd)</p>\n',
      ].join(' '),
    );
    expect(html).not.toMatch(/href="(?!https:|mailto:|\.\.\/loop_station\/)/);
  });

  test('an image is a link to its file, never loaded by the page', () => {
    expect(
      renderMarkdownHtml(
        '![loss curve](plots/loss.png) ![x](javascript:alert(1)) ![y](data:image/png;base64,iVBORw0KGgo=)',
        FROM_REVIEW,
      ),
    ).toBe(
      '<p><a class="image-link" href="../loop_station/reviews/session_001/plots/loss.png">loss curve</a> ![x](javascript:alert(1)) ![y](data:image/png;base64,iVBORw0KGgo=)</p>\n',
    );
  });

  test("headings sit below the page's own: # and ### both become h4, #### h5", () => {
    expect(renderMarkdownHtml('# a\n\n### b\n\n#### c\n\n###### d', FROM_REVIEW)).toBe(
      '<h4>a</h4>\n<h4>b</h4>\n<h5>c</h5>\n<h6>d</h6>\n',
    );
  });

  test('inline text (a goal) has no paragraph around it', () => {
    expect(
      renderMarkdownInlineHtml('Raise **PSNR** <b>now</b> (see [notes](notes.md))', {
        sourceDir: 'loop_station',
        hrefBase: '',
      }),
    ).toBe('Raise <strong>PSNR</strong> &lt;b&gt;now&lt;/b&gt; (see <a href="loop_station/notes.md">notes</a>)');
  });
});

describe('resolveHref', () => {
  test.for([
    ['https://example.org', { href: 'https://example.org' }],
    ['HTTPS://EXAMPLE.ORG', { href: 'HTTPS://EXAMPLE.ORG' }],
    ['#trend', { href: '#trend' }],
    ['a%20b.md', { href: '../loop_station/reviews/session_001/a%20b.md' }],
    ['./x/../y.md?raw=1', { href: '../loop_station/reviews/session_001/y.md?raw=1' }],
    ['../../../README.md', { href: '../README.md' }],
    ['../../../../x', { href: null, reason: 'the path leads outside the loop folder' }],
    ['JavaScript:alert(1)', { href: null, reason: 'javascript: links are not followed' }],
    [' \tjavascript:alert(1)', { href: null, reason: 'javascript: links are not followed' }],
    ['vbscript:msgbox', { href: null, reason: 'vbscript: links are not followed' }],
    ['data:image/png;base64,AAAA', { href: null, reason: 'data: links are not followed' }],
    ['file:///etc/passwd', { href: null, reason: 'file: links are not followed' }],
    ['//evil.example/x', { href: null, reason: 'absolute paths are not followed' }],
    ['java%09script:alert(1)', { href: null, reason: 'a colon in the first path segment' }],
    ['%E0%A4%A', { href: null, reason: 'a malformed path' }],
  ] as const)('%s', ([url, expected]) => {
    expect(resolveHref(url, FROM_REVIEW)).toEqual(expected);
  });
});
