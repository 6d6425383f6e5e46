import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, test } from 'vitest';
import { testdir } from '../helpers/testdir.js';
import { OWNER_FILE, removeStaleRunTmpdirs, RUN_TMPDIR_ENV, RUN_TMPDIR_PREFIX } from '../run-tmpdir.js';

test("a test's temp folders, and its child processes', go in the run's own folder", () => {
  const dir = process.env[RUN_TMPDIR_ENV];
  expect(dir).toBeDefined();
  expect(basename(dir!).startsWith(RUN_TMPDIR_PREFIX)).toBe(true);
  expect(existsSync(dir!)).toBe(true);
  expect(tmpdir()).toBe(dir);
  expect(process.env.TMPDIR).toBe(dir);
  // Its owner is the process that made it, still running: vitest's main process.
  expect(Number(readFileSync(join(dir!, OWNER_FILE), 'utf8'))).toBe(process.ppid);
});

test("a killed run's folder goes at the next run; another live run's, an unowned one and other folders stay", async () => {
  const parent = await testdir();
  // A pid no process can have: above Linux's highest pid_max (2^22) and macOS's 99,998.
  const gone = 2 ** 22 + 1;
  const folder = (name: string, owner?: string) => {
    mkdirSync(join(parent, name, 'sub'), { recursive: true });
    writeFileSync(join(parent, name, 'sub', 'file'), 'x');
    if (owner !== undefined) writeFileSync(join(parent, name, OWNER_FILE), owner);
  };
  folder(`${RUN_TMPDIR_PREFIX}killed`, `${gone}\n`);
  folder(`${RUN_TMPDIR_PREFIX}running`, `${process.pid}\n`);
  folder(`${RUN_TMPDIR_PREFIX}unowned`);
  folder(`${RUN_TMPDIR_PREFIX}garbled`, 'not a pid');
  folder('someone-else', `${gone}\n`);
  expect(removeStaleRunTmpdirs(parent)).toEqual([`${RUN_TMPDIR_PREFIX}killed`]);
  for (const name of ['running', 'unowned', 'garbled'])
    expect(existsSync(join(parent, `${RUN_TMPDIR_PREFIX}${name}`, 'sub', 'file'))).toBe(true);
  expect(existsSync(join(parent, 'someone-else'))).toBe(true);
});
