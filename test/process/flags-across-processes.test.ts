import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, onTestFinished, test } from 'vitest';
import { testdir } from '../helpers/testdir.js';

/** writeFlag raced by two real node processes (test/fixtures/flags/write-flags.ts): exclusive create across processes. */

const WRITER = fileURLToPath(new URL('../fixtures/flags/write-flags.ts', import.meta.url));

async function tempRoot(): Promise<string> {
  const dir = await testdir({}, 'ls-flags-');
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const FLAGS = 'loop_station/flags/session_007';

interface WriterLine {
  agent: string;
  outcome?: string;
  name?: string;
  error?: string;
}

/** Runs the writer fixture as its own node process and returns its result lines. */
function runWriter(args: string[]): Promise<WriterLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    // 'close', not 'exit': only then has stdout been read to its end.
    child.on('close', (code) =>
      code === 0
        ? resolve(
            out
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as WriterLine),
          )
        : reject(new Error(`writer exited ${code}`)),
    );
  });
}

/** Two processes write the same `count` flags at the same instant. */
async function race(root: string, count: number, status: string, bodies: [string, string]) {
  const startAt = String(Date.now() + 2500);
  const [a, b] = await Promise.all(bodies.map((body) => runWriter([root, startAt, String(count), status, body])));
  return { a: a!, b: b! };
}

describe('writeFlag across processes', () => {
  test('same bytes: exactly one process creates each flag, the other sees it identical', async () => {
    const root = await tempRoot();
    const { a, b } = await race(root, 40, 'DONE', ['timestamp: t\n', 'timestamp: t\n']);
    for (let i = 0; i < 40; i++) {
      expect([a[i]!.outcome, b[i]!.outcome].sort()).toEqual(['created', 'identical']);
    }
    expect(readdirSync(join(root, FLAGS)).length).toBe(40);
    expect(readFileSync(join(root, FLAGS, 'AGENT1-SESSION007-REVIEWER-DONE.flag'), 'utf8')).toBe('timestamp: t\n');
  }, 60_000);

  test('other bytes on a non-repeatable status: one created, the other FLAG_COLLISION', async () => {
    const root = await tempRoot();
    const { a, b } = await race(root, 20, 'DONE', ['writer: a\n', 'writer: b\n']);
    for (let i = 0; i < 20; i++) {
      expect([a[i]!.outcome ?? a[i]!.error, b[i]!.outcome ?? b[i]!.error].sort()).toEqual([
        'FLAG_COLLISION',
        'created',
      ]);
    }
  }, 60_000);

  test('other bytes on HEARTBEAT: both created, one as -2', async () => {
    const root = await tempRoot();
    const { a, b } = await race(root, 20, 'HEARTBEAT', ['beat: a\n', 'beat: b\n']);
    for (let i = 0; i < 20; i++) {
      expect([a[i]!.name, b[i]!.name].sort()).toEqual([
        `AGENT${i + 1}-SESSION007-REVIEWER-HEARTBEAT-2.flag`,
        `AGENT${i + 1}-SESSION007-REVIEWER-HEARTBEAT.flag`,
      ]);
      expect([a[i]!.outcome, b[i]!.outcome]).toEqual(['created', 'created']);
    }
    expect(readdirSync(join(root, FLAGS)).filter((n) => n.startsWith('.')).length).toBe(0);
  }, 60_000);
});
