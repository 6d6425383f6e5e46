import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { FlagCollisionError, PathEscapeError, RootNotAllowedError } from '../../activities/errors.js';
import { scanFlags, sha256Hex, writeFileAtomic, writeFilesAtomic, writeFlag } from '../../activities/flags.js';
import { assertRootAllowed, resolveInRoot } from '../../activities/paths.js';
import type { FlagName } from '../../protocol/flag-name.js';
import { renderFlagBody, type FlagBody } from '../../protocol/schemas/flag-body.js';

const dirs: string[] = [];
const tempRoot = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ls-flags-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const flag = (status: FlagName['status'], agent = 'CLAUDE'): FlagName => ({
  agent,
  session: 7,
  role: 'REVIEWER',
  status,
  occurrence: 1,
});
const FLAGS = 'loop_station/flags/session_007';

describe('writeFlag in one process', () => {
  test('retry with the same body is identical; a repeatable status moves to the next free -k', async () => {
    const root = tempRoot();
    expect(await writeFlag({ root, session: 7, flag: flag('DONE'), body: 'a\n' })).toEqual({
      outcome: 'created',
      name: 'CLAUDE-SESSION007-REVIEWER-DONE.flag',
      path: `${FLAGS}/CLAUDE-SESSION007-REVIEWER-DONE.flag`,
      sha256: sha256Hex('a\n'),
    });
    expect((await writeFlag({ root, session: 7, flag: flag('DONE'), body: 'a\n' })).outcome).toBe('identical');
    const collision = await writeFlag({ root, session: 7, flag: flag('DONE'), body: 'b\n' }).catch((e: unknown) => e);
    expect(collision).toBeInstanceOf(FlagCollisionError);
    expect((collision as FlagCollisionError).message).toBe(
      `${FLAGS}/CLAUDE-SESSION007-REVIEWER-DONE.flag: FLAG_COLLISION: the flag exists with other bytes and its status does not repeat (under ${root}); flags are never rewritten, so the loop fails here: stop the second writer of this flag, then continue from the last closed session with \`loop-station fork <loop> --from-session N\``,
    );
    for (const body of ['1\n', '2\n', '3\n']) await writeFlag({ root, session: 7, flag: flag('HEARTBEAT'), body });
    expect((await writeFlag({ root, session: 7, flag: flag('HEARTBEAT'), body: '2\n' })).name).toBe(
      'CLAUDE-SESSION007-REVIEWER-HEARTBEAT-2.flag',
    );
    expect(readdirSync(join(root, FLAGS)).sort()).toEqual([
      'CLAUDE-SESSION007-REVIEWER-DONE.flag',
      'CLAUDE-SESSION007-REVIEWER-HEARTBEAT-2.flag',
      'CLAUDE-SESSION007-REVIEWER-HEARTBEAT-3.flag',
      'CLAUDE-SESSION007-REVIEWER-HEARTBEAT.flag',
    ]);
    expect(readFileSync(join(root, FLAGS, 'CLAUDE-SESSION007-REVIEWER-DONE.flag'), 'utf8')).toBe('a\n');
  });

  const engineBody = (fields: Partial<FlagBody>): string =>
    renderFlagBody({
      timestamp: '2026-01-01T00:00:00.000Z',
      producer: 'CLAUDE',
      role: 'REVIEWER',
      session: 7,
      status: 'TIMEOUT',
      seq: 4,
      writer: 'engine',
      next: ['LOOP_STATION'],
      ...fields,
    });

  test("an engine step run again (a re-run workflow task: other time and seq, same identity) keeps the first write as 'replayed'", async () => {
    const root = tempRoot();
    const first = engineBody({ code: 'REVIEW_START_TIMEOUT' });
    await writeFlag({ root, session: 7, flag: flag('TIMEOUT'), body: first, engine: true });
    const again = await writeFlag({
      root,
      session: 7,
      flag: flag('TIMEOUT'),
      body: engineBody({ timestamp: '2026-01-01T00:00:05.000Z', seq: 6, code: 'REVIEW_START_TIMEOUT' }),
      engine: true,
    });
    expect(again).toEqual({
      outcome: 'replayed',
      name: 'CLAUDE-SESSION007-REVIEWER-TIMEOUT.flag',
      path: `${FLAGS}/CLAUDE-SESSION007-REVIEWER-TIMEOUT.flag`,
      sha256: sha256Hex(first),
    });
    expect(readFileSync(join(root, FLAGS, 'CLAUDE-SESSION007-REVIEWER-TIMEOUT.flag'), 'utf8')).toBe(first);
  });

  test("an agent's flag the engine adopts stays as written; other bytes than the adopted ones still collide", async () => {
    const root = tempRoot();
    const exec = { agent: 'EXEC', session: 7, role: 'EXECUTOR', status: 'DONE', occurrence: 1 } as const;
    await writeFlag({ root, session: 7, flag: exec, body: '' });
    const body = engineBody({ producer: 'EXEC', role: 'EXECUTOR', status: 'DONE' });
    const other = await writeFlag({ root, session: 7, flag: exec, body, engine: true, adopt: sha256Hex('x') }).catch(
      (e: unknown) => e,
    );
    expect(other).toBeInstanceOf(FlagCollisionError);
    expect(await writeFlag({ root, session: 7, flag: exec, body, engine: true, adopt: sha256Hex('') })).toEqual({
      outcome: 'adopted',
      name: 'EXEC-SESSION007-EXECUTOR-DONE.flag',
      path: `${FLAGS}/EXEC-SESSION007-EXECUTOR-DONE.flag`,
      sha256: sha256Hex(''),
    });
    expect(readFileSync(join(root, FLAGS, 'EXEC-SESSION007-EXECUTOR-DONE.flag'), 'utf8')).toBe('');
  });

  test('a re-run task that meets two violations in the other order keeps each flag true to its own step', async () => {
    // The first run of a task judged flag B, then flag A; its completion was lost. The re-run judges
    // A first: A's VIOLATION must not be taken for B's earlier write under the same name.
    const root = tempRoot();
    const supervisor = (status: FlagName['status'], occurrence = 1): FlagName => ({
      agent: 'LOOP_STATION',
      session: 7,
      role: 'SUPERVISOR',
      status,
      occurrence,
    });
    const body = (status: 'VIOLATION' | 'REPAIRED', code: string, seq: number) =>
      engineBody({
        producer: 'LOOP_STATION',
        role: 'SUPERVISOR',
        status,
        seq,
        next: [],
        ...(status === 'VIOLATION'
          ? { code, subject: `flags/${code}.flag`, reason: 'r' }
          : { repairs: code, reason: 'disregarded' }),
      });
    const write = (status: 'VIOLATION' | 'REPAIRED', occurrence: number, code: string, seq: number) =>
      writeFlag({
        root,
        session: 7,
        flag: supervisor(status, occurrence),
        body: body(status, code, seq),
        engine: true,
      });
    // First run: B then (lost before A).
    await write('VIOLATION', 1, 'B', 6);
    await write('REPAIRED', 1, 'B', 8);
    // Re-run: A first, under the names B took, then B.
    expect((await write('VIOLATION', 1, 'A', 6)).name).toBe('LOOP_STATION-SESSION007-SUPERVISOR-VIOLATION-2.flag');
    expect((await write('REPAIRED', 1, 'A', 8)).name).toBe('LOOP_STATION-SESSION007-SUPERVISOR-REPAIRED-2.flag');
    expect(await write('VIOLATION', 2, 'B', 10)).toMatchObject({
      outcome: 'replayed',
      name: 'LOOP_STATION-SESSION007-SUPERVISOR-VIOLATION.flag',
    });
    expect(await write('REPAIRED', 2, 'B', 12)).toMatchObject({
      outcome: 'replayed',
      name: 'LOOP_STATION-SESSION007-SUPERVISOR-REPAIRED.flag',
    });
    // Each step once, each body naming its own violation.
    const code = (name: string) =>
      /^(?:code|repairs): (\w+)$/m.exec(readFileSync(join(root, FLAGS, name), 'utf8'))?.[1];
    expect(
      readdirSync(join(root, FLAGS))
        .sort()
        .map((n) => [n, code(n)]),
    ).toEqual([
      ['LOOP_STATION-SESSION007-SUPERVISOR-REPAIRED-2.flag', 'A'],
      ['LOOP_STATION-SESSION007-SUPERVISOR-REPAIRED.flag', 'B'],
      ['LOOP_STATION-SESSION007-SUPERVISOR-VIOLATION-2.flag', 'A'],
      ['LOOP_STATION-SESSION007-SUPERVISOR-VIOLATION.flag', 'B'],
    ]);
  });

  test('a re-run in the same order, at a later time, still finds each violation under its own name', async () => {
    const root = tempRoot();
    // The re-run's timestamp, seq and free text differ (they hold the time); its steps do not.
    const violation = (occurrence: number, code: string, seq: number, at: string) =>
      writeFlag({
        root,
        session: 7,
        flag: { agent: 'LOOP_STATION', session: 7, role: 'SUPERVISOR', status: 'VIOLATION', occurrence },
        body: engineBody({
          timestamp: at,
          producer: 'LOOP_STATION',
          role: 'SUPERVISOR',
          status: 'VIOLATION',
          seq,
          next: [],
          code,
          subject: `flags/${code}.flag`,
          reason: `seen at ${at}`,
        }),
        engine: true,
      });
    await violation(1, 'A', 6, '2026-01-01T00:00:01.000Z');
    await violation(2, 'B', 8, '2026-01-01T00:00:02.000Z');
    expect(await violation(1, 'A', 16, '2026-01-01T00:00:09.000Z')).toMatchObject({
      outcome: 'replayed',
      name: 'LOOP_STATION-SESSION007-SUPERVISOR-VIOLATION.flag',
    });
    expect(await violation(2, 'B', 18, '2026-01-01T00:00:10.000Z')).toMatchObject({
      outcome: 'replayed',
      name: 'LOOP_STATION-SESSION007-SUPERVISOR-VIOLATION-2.flag',
    });
    expect(readdirSync(join(root, FLAGS))).toHaveLength(2);
  });

  test.for([
    ['a body that only says writer: engine', 'writer: engine\n'],
    ['an engine body of another producer', engineBody({ producer: 'OTHER' })],
    ['an engine body of another status', engineBody({ status: 'DONE' })],
    ['an engine body of another session', engineBody({ session: 8 })],
    ['the same identity written by an agent', 'producer: CLAUDE\nrole: REVIEWER\nsession: 007\nstatus: TIMEOUT\n'],
  ] as const)('an engine write over %s is a FLAG_COLLISION, and the file stays', async ([, existing]) => {
    const root = tempRoot();
    await writeFlag({ root, session: 7, flag: flag('TIMEOUT'), body: existing });
    const error = await writeFlag({
      root,
      session: 7,
      flag: flag('TIMEOUT'),
      body: engineBody({}),
      engine: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlagCollisionError);
    expect((error as FlagCollisionError).message).toBe(
      `${FLAGS}/CLAUDE-SESSION007-REVIEWER-TIMEOUT.flag: FLAG_COLLISION: the flag exists with other bytes and its status does not repeat (under ${root}); flags are never rewritten, so the loop fails here: stop the second writer of this flag, then continue from the last closed session with \`loop-station fork <loop> --from-session N\``,
    );
    expect(readFileSync(join(root, FLAGS, 'CLAUDE-SESSION007-REVIEWER-TIMEOUT.flag'), 'utf8')).toBe(existing);
  });

  test('a flag of another session is refused before anything is written', async () => {
    const root = tempRoot();
    await expect(writeFlag({ root, session: 8, flag: flag('DONE'), body: '' })).rejects.toThrow(
      'flag CLAUDE-SESSION007-REVIEWER-DONE.flag names session 7, not 8',
    );
    expect(existsSync(join(root, 'loop_station'))).toBe(false);
  });

  test('a flags folder that is a symlink out of the root is refused and nothing lands outside', async () => {
    const root = tempRoot();
    const outside = tempRoot();
    mkdirSync(join(root, 'loop_station/flags'), { recursive: true });
    symlinkSync(outside, join(root, FLAGS));
    const error = await writeFlag({ root, session: 7, flag: flag('DONE'), body: 'x\n' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathEscapeError);
    expect((error as PathEscapeError).message).toBe(
      `${FLAGS}: resolves through ${join(root, FLAGS)} to ${outside}, outside the root (loop root ${root}); use a POSIX path relative to the root, without .., backslashes or symlinks that leave it`,
    );
    expect(readdirSync(outside)).toEqual([]);
  });

  test('scanFlags lists regular flag files with bodies, skipping dot-files and folders', async () => {
    const root = tempRoot();
    await writeFlag({ root, session: 7, flag: flag('RUNNING'), body: 'r\n' });
    await writeFlag({ root, session: 7, flag: flag('DONE'), body: 'd\n' });
    writeFileSync(join(root, FLAGS, '.partial.tmp'), '');
    mkdirSync(join(root, FLAGS, 'nested'));
    const scanned = await scanFlags(root, 7);
    expect(scanned.map(({ name, body }) => ({ name, body }))).toEqual([
      { name: 'CLAUDE-SESSION007-REVIEWER-DONE.flag', body: 'd\n' },
      { name: 'CLAUDE-SESSION007-REVIEWER-RUNNING.flag', body: 'r\n' },
    ]);
    expect(scanned.every((f) => f.mtimeMs > 0)).toBe(true);
    expect(await scanFlags(root, 8)).toEqual([]);
  });
});

describe('paths and atomic writes', () => {
  test.for([
    ['../outside.md', 'has a .. segment'],
    ['loop_station/../../x', 'has a .. segment'],
    ['/etc/passwd', 'is absolute'],
    ['loop_station\\x.md', 'contains a backslash'],
    ['loop_station/x\0.md', 'contains NUL'],
  ] as const)('resolveInRoot refuses %j: %s', ([rel, reason]) => {
    const root = tempRoot();
    expect(() => resolveInRoot(root, rel)).toThrow(
      `${rel}: ${reason} (loop root ${root}); use a POSIX path relative to the root, without .., backslashes or symlinks that leave it`,
    );
  });

  test('resolveInRoot allows links that stay inside and paths under a root not created yet', () => {
    const root = tempRoot();
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'alias'));
    expect(resolveInRoot(root, 'alias/new/file.md')).toBe(join(root, 'alias/new/file.md'));
    expect(resolveInRoot(join(root, 'missing'), 'loop_station/x')).toBe(join(root, 'missing/loop_station/x'));
  });

  test('a dangling link pointing out is refused', () => {
    const root = tempRoot();
    symlinkSync('/nonexistent/place', join(root, 'dangling'));
    expect(() => resolveInRoot(root, 'dangling/x')).toThrow(PathEscapeError);
  });

  test('writeFileAtomic replaces content, leaves no temp file, and refuses escapes', async () => {
    const root = tempRoot();
    await writeFileAtomic(root, 'loop_station/summaries/ROLLING_SUMMARY.md', 'one\n');
    await writeFileAtomic(root, 'loop_station/summaries/ROLLING_SUMMARY.md', 'two\n');
    expect(readdirSync(join(root, 'loop_station/summaries'))).toEqual(['ROLLING_SUMMARY.md']);
    expect(readFileSync(join(root, 'loop_station/summaries/ROLLING_SUMMARY.md'), 'utf8')).toBe('two\n');
    const outside = tempRoot();
    symlinkSync(outside, join(root, 'loop_station/out'));
    await expect(writeFileAtomic(root, 'loop_station/out/x.md', 'x')).rejects.toThrow(PathEscapeError);
    await expect(writeFileAtomic(root, '../x.md', 'x')).rejects.toThrow(PathEscapeError);
    expect(readdirSync(outside)).toEqual([]);
  });

  test('writeFilesAtomic places its files group after group, and nothing when one cannot be written', async () => {
    const root = tempRoot();
    const [a, b, index] = ['loop_station/x/a.md', 'loop_station/y/b.md', 'loop_station/x/index.md'];
    await writeFilesAtomic(root, [
      [
        [a, 'a1\n'],
        [b, 'b1\n'],
      ],
      [[index, 'i1\n']],
    ]);
    const read = (rel: string) => readFileSync(join(root, rel), 'utf8');
    expect([read(a), read(b), read(index)]).toEqual(['a1\n', 'b1\n', 'i1\n']);
    expect(readdirSync(join(root, 'loop_station/x')).sort()).toEqual(['a.md', 'index.md']);
    // One file that cannot be staged (its folder leads out of the root): none of the others is placed.
    const outside = tempRoot();
    symlinkSync(outside, join(root, 'loop_station/out'));
    await expect(
      writeFilesAtomic(root, [
        [
          [a, 'a2\n'],
          ['loop_station/out/z.md', 'z\n'],
        ],
      ]),
    ).rejects.toThrow(PathEscapeError);
    expect(read(a)).toBe('a1\n');
    // A later group that cannot be placed (its name is a folder): the earlier group is in place, no temp file is left.
    mkdirSync(join(root, 'loop_station/y/c.md/inside'), { recursive: true });
    await expect(
      writeFilesAtomic(root, [
        [
          [a, 'a3\n'],
          [b, 'b3\n'],
        ],
        [['loop_station/y/c.md', 'c\n']],
      ]),
    ).rejects.toThrow();
    expect([read(a), read(b)]).toEqual(['a3\n', 'b3\n']);
    expect(readdirSync(join(root, 'loop_station/x')).sort()).toEqual(['a.md', 'index.md']);
    expect(readdirSync(join(root, 'loop_station/y')).sort()).toEqual(['b.md', 'c.md']);
    expect(readdirSync(outside)).toEqual([]);
  });

  test("writeFilesAtomic's afterGroup runs once a group is in place, before the next one appears", async () => {
    const root = tempRoot();
    const [first, second] = ['loop_station/x/first.md', 'loop_station/z/second.md'];
    const seen: [number, boolean, boolean][] = [];
    await writeFilesAtomic(root, [[[first, '1\n']], [[second, '2\n']]], {
      afterGroup: async (group) => {
        await Promise.resolve();
        seen.push([group, existsSync(join(root, first)), existsSync(join(root, second))]);
      },
    });
    expect(seen).toEqual([
      [0, true, false],
      [1, true, true],
    ]);
    // A failing hook stops the write there: the later group's temp file is not left behind.
    const other = 'loop_station/z/third.md';
    await expect(
      writeFilesAtomic(root, [[[first, '3\n']], [[other, '4\n']]], {
        afterGroup: () => Promise.reject(new Error('no')),
      }),
    ).rejects.toThrow('no');
    expect(existsSync(join(root, other))).toBe(false);
    expect(readdirSync(join(root, 'loop_station/z'))).toEqual(['second.md']);
  });

  test('assertRootAllowed accepts roots under an allowed one only', () => {
    const allowed = tempRoot();
    expect(() => assertRootAllowed(join(allowed, 'loops/a'), [allowed])).not.toThrow();
    expect(() => assertRootAllowed('/somewhere/else', [allowed])).toThrow(
      new RootNotAllowedError('/somewhere/else', [allowed]).message,
    );
  });
});
