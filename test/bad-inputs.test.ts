import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { BIN, run } from './helpers/cli.js';
import { testdir } from './helpers/testdir.js';

/**
 * The bad-input corpus: each folder of test/fixtures/bad-inputs/ holds the files a user gave, the
 * command (case.json: args, exit code) and the exact stderr (expected.txt). Nothing may reach a
 * server: connection commands point at a closed port, so a missed validation would exit 3.
 * Regenerate expected.txt after a deliberate wording change with UPDATE_GOLDEN=1.
 */
const corpus = fileURLToPath(new URL('./fixtures/bad-inputs/', import.meta.url));
const cases = (await readdir(corpus)).filter((n) => !n.includes('.')).sort();
const CONNECTING = new Set(['submit', 'approve', 'redirect', 'status', 'stop']);

describe('bad input', () => {
  test('the corpus has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  test.for(cases)('%s: a clear error and the right exit code, nothing started', async (name) => {
    const spec = JSON.parse(await readFile(join(corpus, name, 'case.json'), 'utf8')) as { args: string[]; code: number };
    const cwd = await testdir();
    await cp(join(corpus, name), cwd, { recursive: true });
    const args = CONNECTING.has(spec.args[0]!) ? [...spec.args, '--address', '127.0.0.1:1'] : spec.args;
    const res = await run(process.execPath, [BIN, ...args], { cwd });
    const expectedFile = join(corpus, name, 'expected.txt');
    if (process.env.UPDATE_GOLDEN) await writeFile(expectedFile, res.stderr);
    expect({ code: res.code, stderr: res.stderr, stdout: res.stdout }).toEqual({ code: spec.code, stderr: await readFile(expectedFile, 'utf8'), stdout: '' });
    // Nothing was written next to the user's files.
    expect((await readdir(cwd)).sort()).toEqual((await readdir(join(corpus, name))).sort());
  });
});
