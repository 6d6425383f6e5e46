import { describe, expect, test } from 'vitest';
import { compileFolderGlobs, compileGlobs, globListProblems, globProblem } from './glob.js';

/** [patterns, path, in the set?]: each row a rule of docs/patterns.md. */
const CASES: [string[], string, boolean][] = [
  // braces and ranges
  [['eval.{py,json}'], 'eval.json', true],
  [['eval.{py,json}'], 'eval.py', true],
  [['eval.{py,json}'], 'eval.js', false],
  [['data/{train,val}/*.csv'], 'data/val/a.csv', true],
  [['data/{train,val}/*.csv'], 'data/test/a.csv', false],
  [['shard{1..3}.bin'], 'shard2.bin', true],
  [['shard{1..3}.bin'], 'shard4.bin', false],
  // character classes: `[!…]` and `[^…]` negate, POSIX classes work
  [['run[0-9].log'], 'run7.log', true],
  [['run[0-9].log'], 'runx.log', false],
  [['[!abc].txt'], 'd.txt', true],
  [['[!abc].txt'], 'a.txt', false],
  [['[^abc].txt'], 'a.txt', false],
  [['v[[:digit:]].json'], 'v3.json', true],
  // * and ? stay in one folder, ** crosses any number (zero included) as a whole segment
  [['*.py'], 'train.py', true],
  [['*.py'], 'src/train.py', false],
  [['src/?.ts'], 'src/a.ts', true],
  [['src/?.ts'], 'src/ab.ts', false],
  [['**/*.py'], 'train.py', true],
  [['**/*.py'], 'a/b/c/train.py', true],
  [['src/**/test/*.ts'], 'src/test/a.ts', true],
  [['src/**/test/*.ts'], 'src/x/y/test/a.ts', true],
  [['src/**/test/*.ts'], 'src/x/y/test/deeper/a.ts', false],
  [['src/**'], 'src/a/b/c.ts', true],
  [['a/**b'], 'a/x/b', false],
  // dotfiles: only where the pattern's segment names the dot
  [['*'], '.env', false],
  [['**'], 'src/.cache/x', false],
  [['src/**'], 'src/.env', false],
  [['.env'], '.env', true],
  [['.*'], '.env', true],
  [['**/.env'], 'a/b/.env', true],
  [['src/.config/**'], 'src/.config/a.json', true],
  // a pattern without wildcards names a file, or a folder and all in it (its dotfiles too)
  [['data'], 'data/images/1.png', true],
  [['data'], 'data/.cache/x', true],
  [['data'], 'database.db', false],
  [['data/*'], 'data/images/1.png', false],
  // ! takes out what earlier patterns matched; the last pattern that matches decides
  [['src/**', '!src/vendor'], 'src/vendor/lib/a.js', false],
  [['src/**', '!src/vendor'], 'src/main.js', true],
  [['src/**', '!**/*.test.ts'], 'src/a.test.ts', false],
  [['src/**', '!**/*.test.ts', 'src/keep.test.ts'], 'src/keep.test.ts', true],
  [['src/**', '!**/*.test.ts', 'src/keep.test.ts'], 'src/other.test.ts', false],
  // never matched: the loop's own files, git's store, installed packages
  [['**'], 'loop_station/contract.json', false],
  [['loop_station/**'], 'loop_station/contract.json', false],
  [['**/*.js'], 'node_modules/x/index.js', false],
  [['**/*.js'], 'packages/a/node_modules/x/index.js', false],
  [['.git/**'], '.git/config', false],
  [['lib/**'], 'lib/loop_station/x', true],
  // parentheses group alternatives (extglob); a class names a literal parenthesis
  [['report [(]1[)].pdf'], 'report (1).pdf', true],
  [['report [(]1[)].pdf'], 'report 1.pdf', false],
];

describe('the pattern matcher', () => {
  test.for(CASES)('%j: %s is %s', ([globs, path, expected]) => {
    expect(compileGlobs(globs).includes(path)).toBe(expected);
  });

  test('matching names every pattern that matches a path on its own, ! patterns included', () => {
    expect(compileGlobs(['src/**', '!src/vendor', 'src/vendor/keep.js']).matching('src/vendor/keep.js')).toEqual([
      0, 1, 2,
    ]);
  });

  test('the walk enters only folders a positive pattern can reach', () => {
    const m = compileGlobs(['src/lib/**', 'eval.py', '!docs/**']);
    expect(
      ['src', 'src/lib', 'src/lib/deep', 'docs', 'tests', 'node_modules'].map((d) => [d, m.mayContain(d)]),
    ).toEqual([
      ['src', true],
      ['src/lib', true],
      ['src/lib/deep', true],
      ['docs', false],
      ['tests', false],
      ['node_modules', false],
    ]);
  });
});

describe('the scratch matcher: a pattern names a folder and all it holds', () => {
  test.for([
    [['runs'], 'runs/exp1/ckpt.bin', true],
    [['runs/**'], 'runs/exp1/ckpt.bin', true],
    [['**/wandb'], 'sub/wandb/run-1/log.txt', true],
    [['**/wandb'], 'wandb', true],
    [['**/wandb'], 'sub/wandb-notes.txt', false],
    [['outputs', '!outputs/config.yaml'], 'outputs/config.yaml', false],
    [['outputs', '!outputs/config.yaml'], 'outputs/model.pt', true],
    [['runs', '!runs/keep'], 'runs/keep/a.txt', false],
    [['**/*.log'], 'train.log', true],
    [['**'], 'loop_station/leaderboard.csv', false],
    [[], 'runs/x', false],
  ] as const)('%j: %s is %s', ([globs, path, expected]) => {
    expect(compileFolderGlobs(globs).includes(path)).toBe(expected);
  });

  test('a folder is covered whole (not walked) only when no ! pattern can reach into it', () => {
    const m = compileFolderGlobs(['runs', '**/wandb', 'outputs', '!outputs/config.yaml']);
    expect(['runs', 'runs/exp1', 'x/wandb', 'outputs', 'src'].map((d) => [d, m.coversAll(d)])).toEqual([
      ['runs', true],
      ['runs/exp1', true],
      ['x/wandb', true],
      ['outputs', false],
      ['src', false],
    ]);
    expect(compileFolderGlobs(['runs', '!**/*.yaml']).coversAll('runs')).toBe(false);
  });
});

describe('pattern rules', () => {
  test.for([
    ['!!x', 'may start with one ! at most: remove the others (got "!!x")'],
    ['!', 'needs a pattern after the ! (got "!")'],
    ['!/etc/**', 'must be relative to the loop root: remove the leading / (got "!/etc/**")'],
    ['!../x', 'must stay inside the loop root: remove the .. segment (got "!../x")'],
    ['[z-a].txt', 'is not a pattern picomatch can read: check its [ ] ranges (got "[z-a].txt")'],
  ] as const)('%s is refused: %s', ([glob, message]) => {
    expect(globProblem(glob)).toBe(message);
  });

  test.for(['!src/vendor/**', 'eval.{py,json}', '[!a]*.txt', 'shard{1..3}.bin', '.env'])('%s is accepted', (glob) => {
    expect(globProblem(glob)).toBeUndefined();
  });

  test('a ! pattern before any positive one is refused at its index; after one it is fine', () => {
    expect(globListProblems(['!a', 'b/**', '!b/c'])).toEqual([
      {
        index: 0,
        message:
          'takes out files that patterns before it matched, and none comes before it: move it after the patterns it narrows (got "!a")',
      },
    ]);
    expect(globListProblems(['b/**', '!b/c'])).toEqual([]);
  });
});
