import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { expect, test } from 'vitest';
import { RUN_TMPDIR_ENV, RUN_TMPDIR_PREFIX } from '../run-tmpdir.js';

test("a test's temp folders, and its child processes', go in the run's own folder", () => {
  const dir = process.env[RUN_TMPDIR_ENV];
  expect(dir).toBeDefined();
  expect(basename(dir!).startsWith(RUN_TMPDIR_PREFIX)).toBe(true);
  expect(existsSync(dir!)).toBe(true);
  expect(tmpdir()).toBe(dir);
  expect(process.env.TMPDIR).toBe(dir);
});
