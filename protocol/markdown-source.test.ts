import { describe, expect, test } from 'vitest';
import { inertHtml, rebaseLinks, relativePath } from './markdown-source.js';

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
