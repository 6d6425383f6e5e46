import { describe, expect, test } from 'vitest';
import { renderJsonSchemas } from '../json-schemas.js';
import { globProblem } from '../glob.js';
import { toLoopConfig } from './loop-config.js';
import { LoopSpecSchema } from './loop-spec.js';

const spec = (fields: { workspace?: string[]; protected?: string[]; artifacts?: string[] }) => ({
  name: 'globs',
  root: '.',
  goal: 'g',
  budget: { sessions: 1 },
  evidence: { command: 'node eval.mjs', metric: 'score', artifacts: fields.artifacts ?? [] },
  workspace: fields.workspace ?? [],
  protected: fields.protected ?? [],
  executor: { agent: 'shell', command: 'node run.mjs' },
});

const GOOD = [
  'denoiser/**',
  'eval.mjs',
  'lib/**',
  '**/*.py',
  'a/b?/c*.txt',
  '..hidden',
  'x..y/z',
  '.env',
  'dir/./file',
  'eval.{py,json}',
  '[!a]*.txt',
  'run[0-9].log',
  '!lib/vendor/**',
  'data/',
  '!data/raw/',
  './eval.py',
  './data/',
  '!./data/raw',
  './configs/*.yaml',
];
/** How the spec reads the GOOD patterns people write with ./ (as a shell does) or a trailing / (a folder). */
const NORMALIZED: Record<string, string> = {
  'dir/./file': 'dir/file',
  './eval.py': 'eval.py',
  './data/': 'data',
  '!./data/raw': '!data/raw',
  './configs/*.yaml': 'configs/*.yaml',
};
const BAD = [
  '/etc/**',
  '/',
  'C:\\x',
  'c:/x',
  'a\\b',
  '..',
  '../outside/**',
  'a/../b',
  'a/..',
  'a//b',
  'a//',
  '//x',
  '!!x',
  '!',
  '!/etc/**',
  '!../x',
  '!c:/x',
  '.',
  './',
  '!./',
];

describe('workspace, protected and evidence.artifacts patterns', () => {
  test('relative POSIX globs under the root pass, a folder named with a trailing / as the folder', () => {
    const parsed = LoopSpecSchema.parse(spec({ workspace: GOOD, protected: GOOD, artifacts: GOOD }));
    const read = GOOD.map((g) => NORMALIZED[g] ?? (g.endsWith('/') ? g.slice(0, -1) : g));
    expect([parsed.workspace, parsed.protected, parsed.evidence.artifacts]).toEqual([read, read, read]);
  });

  test('each broken rule is named with its fix and the glob, at the field that holds it', () => {
    const parsed = LoopSpecSchema.safeParse(
      spec({
        workspace: ['../outside/**', 'a//b'],
        protected: ['/etc/**', 'C:\\x'],
        artifacts: ['out\\plot.png', 'plots//'],
      }),
    );
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'evidence.artifacts.0: must use / between folders: replace each \\ with / (got "out\\\\plot.png")',
      'evidence.artifacts.1: must not have an empty segment: remove the doubled / (got "plots//")',
      'workspace.0: must stay inside the loop root: remove the .. segment (got "../outside/**")',
      'workspace.1: must not have an empty segment: remove the doubled / (got "a//b")',
      'protected.0: must be relative to the loop root: remove the leading / (got "/etc/**")',
      'protected.1: must be relative to the loop root: remove the drive C: (got "C:\\\\x")',
    ]);
  });

  test.for(BAD)('%s is refused', (glob) => {
    expect(globProblem(glob)).toBeDefined();
  });

  test('a ! pattern with nothing before it to narrow is refused at its index', () => {
    const parsed = LoopSpecSchema.safeParse(spec({ protected: ['!eval.py', 'eval.*'] }));
    expect(parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'protected.0: takes out files that patterns before it matched, and none comes before it: move it after the patterns it narrows (got "!eval.py")',
    ]);
  });

  test('the JSON Schema pattern for editors accepts and refuses the same globs as the zod check', () => {
    const json = JSON.parse(renderJsonSchemas().get('loop-spec.schema.json')!) as {
      properties: { workspace: { items: { pattern: string } } };
    };
    const pattern = new RegExp(json.properties.workspace.items.pattern);
    expect([...GOOD, ...BAD].map((g) => [g, pattern.test(g)])).toEqual(
      [...GOOD, ...BAD].map((g) => [g, globProblem(g) === undefined]),
    );
  });
});

describe('budget.tokens', () => {
  const withTokens = (tokens: unknown) => ({ ...spec({}), budget: { sessions: 1, tokens } });

  test('a bare number counts uncached input plus output; { limit, count } says what counts', () => {
    const config = (tokens: unknown) => toLoopConfig(LoopSpecSchema.parse(withTokens(tokens)), '/r').budget;
    expect(config(500_000)).toMatchObject({ tokens: 500_000, tokensCount: 'uncached' });
    expect(config({ limit: 9_000_000, count: 'total' })).toMatchObject({ tokens: 9_000_000, tokensCount: 'total' });
    expect(config({ limit: 10 })).toMatchObject({ tokens: 10, tokensCount: 'uncached' });
    expect(toLoopConfig(LoopSpecSchema.parse(spec({})), '/r').budget).toMatchObject({ tokens: null });
  });

  test('a count outside uncached | total, or a limit that is not a positive whole number, is refused', () => {
    expect(LoopSpecSchema.safeParse(withTokens({ limit: 10, count: 'cached' })).success).toBe(false);
    expect(LoopSpecSchema.safeParse(withTokens({ limit: 0 })).success).toBe(false);
    expect(LoopSpecSchema.safeParse(withTokens(1.5)).success).toBe(false);
  });
});
