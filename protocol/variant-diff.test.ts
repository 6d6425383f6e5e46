import { describe, expect, test } from 'vitest';
import { diffFile, diffVariantFiles, textOf, type VariantFile, variantSourceFiles } from './variant-diff.js';

const text = (t: string): VariantFile => ({ kind: 'text', text: t });
const names = (path: string) => ({ from: `a/${path}`, to: `b/${path}` });

describe('variant diffs', () => {
  test('a change is a unified diff without the Index and ==== lines; same text is no change', () => {
    expect(diffFile('x.txt', text('a\nb\n'), text('a\nc\n'), { names, maxFiles: 10 })).toEqual({
      path: 'x.txt',
      patch: ['--- a/x.txt', '+++ b/x.txt', '@@ -1,2 +1,2 @@', ' a', '-b', '+c'].join('\n'),
      note: null,
    });
    expect(diffFile('x.txt', text('a'), text('a'), { names, maxFiles: 10 })).toBeNull();
    expect(diffFile('x.txt', { kind: 'missing' }, text('a\n'), { names, maxFiles: 10 })?.note).toBe('added');
  });

  test('a binary side is named with its sizes; a rewrite past maxEditLength is named, not diffed', () => {
    expect(diffFile('m.bin', { kind: 'binary', size: 9 }, { kind: 'missing' }, { names, maxFiles: 10 })).toEqual({
      path: 'm.bin',
      patch: null,
      note: 'binary or too large to show (9 bytes → missing)',
    });
    const many = (c: string) => Array.from({ length: 50 }, (_, i) => `${c}${i}`).join('\n');
    expect(diffFile('x', text(many('a')), text(many('b')), { names, maxFiles: 1, maxEditLength: 10 })).toEqual({
      path: 'x',
      patch: null,
      note: 'changed too much to show line by line',
    });
  });

  test('at most maxFiles differing files, then one line that says more differ (unchanged files do not count)', async () => {
    const left: Record<string, string> = { a: '1', b: 'same', c: '1', d: '1' };
    const right: Record<string, string> = { a: '2', b: 'same', c: '2', d: '2' };
    const diffs = await diffVariantFiles(
      Object.keys(left),
      async (side, p) => text((side === 'from' ? left : right)[p]!),
      { names, maxFiles: 2 },
    );
    expect(diffs.map((d) => [d.path, d.note])).toEqual([
      ['a', null],
      ['c', null],
      ['…', 'more files differ; only the first 2 are shown'],
    ]);
  });

  test('textOf refuses NUL, invalid UTF-8 and control-heavy bytes', () => {
    expect(textOf(new TextEncoder().encode('héllo\n'))).toBe('héllo\n');
    expect(textOf(Uint8Array.from([0x61, 0x00]))).toBeNull();
    expect(textOf(Uint8Array.from([0xff, 0xfe, 0x61]))).toBeNull();
    expect(textOf(Uint8Array.from([0x01, 0x02, 0x61]))).toBeNull();
  });

  test("a manifest's workspace files, without the protected files the baseline left untouched", () => {
    expect(
      variantSourceFiles({
        source_files: [
          { path: 'w.py', protection_mode: 'copied' },
          { path: 'eval.py', protection_mode: 'untouched' },
        ],
        variant_files: [
          { path: 'files/w.py', source_path: 'w.py' },
          { path: 'files/eval.py', source_path: 'eval.py' },
        ],
      }),
    ).toEqual(new Map([['w.py', 'files/w.py']]));
    expect(variantSourceFiles('not a manifest')).toEqual(new Map());
  });
});
