import { describe, expect, test } from 'vitest';
import { checkFrameGlobs, type DirEntry, type ListDir, walkGlobs } from './glob-walk.js';

/** A folder tree from its file paths (`@` suffix: a symlink), listing what each folder holds and counting the folders read. */
function tree(paths: string[]): ListDir & { read: string[] } {
  const read: string[] = [];
  const list = async (dir: string): Promise<DirEntry[]> => {
    read.push(dir);
    const entries = new Map<string, DirEntry['kind']>();
    for (const p of paths) {
      const rel = dir === '' ? p : p.startsWith(`${dir}/`) ? p.slice(dir.length + 1) : null;
      if (rel === null) continue;
      const [name, ...rest] = rel.split('/');
      entries.set(name!.replace(/@$/, ''), rest.length ? 'dir' : rel.endsWith('@') ? 'symlink' : 'file');
    }
    return [...entries].map(([name, kind]) => ({ name, kind }));
  };
  return Object.assign(list, { read });
}

const ROOT = [
  'eval.py',
  'eval.json',
  '.env',
  'README.md',
  'link@',
  'src/main.py',
  'src/util.py',
  'src/.secret',
  'src/vendor/lib.py',
  'data/train.csv',
  'data/val.csv',
  'node_modules/pkg/index.js',
  '.git/config',
  'loop_station/contract.json',
];

describe('walking a pattern list', () => {
  test('files come sorted, symlinks listed as such, skipped folders never read', async () => {
    const list = tree(ROOT);
    expect(await walkGlobs(list, ['**', 'link'])).toEqual([
      { path: 'README.md', kind: 'file' },
      { path: 'data/train.csv', kind: 'file' },
      { path: 'data/val.csv', kind: 'file' },
      { path: 'eval.json', kind: 'file' },
      { path: 'eval.py', kind: 'file' },
      { path: 'link', kind: 'symlink' },
      { path: 'src/main.py', kind: 'file' },
      { path: 'src/util.py', kind: 'file' },
      { path: 'src/vendor/lib.py', kind: 'file' },
    ]);
    expect(list.read.sort()).toEqual(['', 'data', 'src', 'src/vendor']);
  });

  test('a pattern under a folder reads only the way to it', async () => {
    const list = tree(ROOT);
    expect((await walkGlobs(list, ['src/vendor/*.py'])).map((f) => f.path)).toEqual(['src/vendor/lib.py']);
    expect(list.read).toEqual(['', 'src', 'src/vendor']);
  });

  test('an empty list reads nothing and matches nothing', async () => {
    const list = tree(ROOT);
    expect(await walkGlobs(list, [])).toEqual([]);
    expect(list.read).toEqual([]);
  });
});

describe('the frame-lock checks', () => {
  const check = (spec: { workspace?: string[]; protected?: string[]; scratch?: string[] }) =>
    checkFrameGlobs(tree(ROOT), '/r', {
      workspace: spec.workspace ?? [],
      protected: spec.protected ?? [],
      scratch: spec.scratch ?? [],
    });

  test('protected and workspace patterns that all match, without overlap, pass', async () => {
    expect(
      await check({ workspace: ['src/**', '!src/vendor'], protected: ['eval.{py,json}', 'data', 'src/vendor/**'] }),
    ).toEqual({ errors: [], fix: '', warnings: [] });
  });

  test('a protected pattern that matches no file is an error naming it, its index and the root', async () => {
    expect(await check({ protected: ['eval.py', 'eval.{jsn,yaml}', 'secrets/**', '*.env'] })).toEqual({
      errors: [
        'protected.1: "eval.{jsn,yaml}" matches no file under /r',
        'protected.2: "secrets/**" matches no file under /r',
        'protected.3: "*.env" matches no file under /r',
      ],
      fix: 'make each protected pattern name files that exist, or remove it (docs/patterns.md); then submit again',
      warnings: [],
    });
  });

  test('a protected pattern whose every file a later ! takes out is an error naming the ! pattern', async () => {
    expect((await check({ protected: ['data/**', 'eval.py', '!data', '!eval.py'] })).errors).toEqual([
      'protected.0: "data/**" keeps no file under /r: "!data" takes out every file it matches',
      'protected.1: "eval.py" keeps no file under /r: "!eval.py" takes out every file it matches',
    ]);
  });

  test('patterns naming only skipped folders match nothing', async () => {
    expect((await check({ protected: ['node_modules/**', 'loop_station/*'] })).errors).toEqual([
      'protected.0: "node_modules/**" matches no file under /r',
      'protected.1: "loop_station/*" matches no file under /r',
    ]);
  });

  test('a file both lists keep is an error; a ! in workspace clears it', async () => {
    expect(await check({ workspace: ['**/*.py'], protected: ['eval.py', 'src/vendor'] })).toEqual({
      errors: [
        "workspace: matches eval.py, src/vendor/lib.py under /r, which protected matches too: a file is either the executor's to change or nobody's",
      ],
      fix: 'take them out of workspace with a ! pattern after the others (such as "!eval.py"); then submit again',
      warnings: [],
    });
    expect(
      (await check({ workspace: ['**/*.py', '!eval.py', '!src/vendor'], protected: ['eval.py', 'src/vendor'] })).errors,
    ).toEqual([]);
  });

  test('a workspace pattern that matches nothing yet is a warning, not an error', async () => {
    expect(await check({ workspace: ['src/**', 'new/**/*.rs'], protected: ['eval.py'] })).toEqual({
      errors: [],
      fix: '',
      warnings: [
        'workspace.1: "new/**/*.rs" matches no file under /r yet: fine if the executor creates these files, else correct the pattern',
      ],
    });
  });

  test('a protected file in a scratch folder is an error: its changes would read as expected there', async () => {
    expect(await check({ protected: ['eval.py', 'data/**'], scratch: ['data', '**/vendor'] })).toEqual({
      errors: [
        "scratch: holds data/train.csv, data/val.csv under /r, which protected matches: changes in a scratch folder are expected, a protected file's never are",
      ],
      fix: 'take them out of scratch with a ! pattern after the others (such as "!data/train.csv"), or keep protected files out of scratch folders; then submit again',
      warnings: [],
    });
    expect((await check({ protected: ['data/**'], scratch: ['data', '!data/*.csv'] })).errors).toEqual([]);
  });

  test('a scratch pattern that matches nothing yet is neither an error nor a warning: the runs create it', async () => {
    expect(await check({ protected: ['eval.py'], scratch: ['runs', 'checkpoints/**', '**/wandb'] })).toEqual({
      errors: [],
      fix: '',
      warnings: [],
    });
  });
});
