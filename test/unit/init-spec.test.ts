import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { initCommand, type InitOptions, renderSpec, SPEC_REFERENCE } from '../../cli/commands/init.js';
import type { Output } from '../../cli/output.js';
import { bareSecondsWarnings, loadLoopSpec } from '../../cli/spec-file.js';
import { LoopSpecSchema, type LoopSpecInput } from '../../protocol/schemas/loop-spec.js';
import { DECISION_CLASSES } from '../../protocol/vocabulary.js';
import { testdir } from '../helpers/testdir.js';

/** The spec `init` writes explains itself: a comment per block, and the data unchanged by them. */

const spec: LoopSpecInput = {
  name: 'my-loop',
  root: '.',
  goal: 'Raise accuracy',
  budget: { sessions: 10, wallClock: '10h', perRun: '45m' },
  evidence: { command: 'python eval.py', metric: 'accuracy', direction: 'maximize', plateau: 3, minDelta: 0 },
  workspace: ['src/**'],
  protected: ['eval.py'],
  executor: { agent: 'codex', model: 'gpt-5-codex' },
  reviewers: [{ name: 'claude', agent: 'claude', required: true }],
  reviewWait: { startTimeout: '5m', doneTimeout: '30m', heartbeatTimeout: '10m', skipOnTimeout: true },
};
const text = renderSpec(spec);

/** The comment lines right above `key:` at the top level. */
const commentOf = (key: string): string => {
  const lines = text.split('\n');
  const at =
    lines.indexOf(`${key}:`) >= 0 ? lines.indexOf(`${key}:`) : lines.findIndex((l) => l.startsWith(`${key}: `));
  const above: string[] = [];
  for (let i = at - 1; i >= 0 && lines[i]!.startsWith('#'); i--) above.unshift(lines[i]!.slice(2));
  return above.join(' ');
};

describe('renderSpec', () => {
  test('parses back to exactly the spec, which validates', () => {
    expect(YAML.parse(text)).toEqual(spec);
    expect(LoopSpecSchema.safeParse(YAML.parse(text)).success).toBe(true);
  });

  test('points at the spec reference and says how durations are written', () => {
    expect(text.split('\n').slice(0, 3).join(' ')).toContain(SPEC_REFERENCE);
    expect(text).toMatch(/^# .*Durations: 45m, 1h30m, 90s, 500ms, or a number of seconds\.$/m);
  });

  test.for(Object.keys(spec))('block %s has a comment of its own', (key) => {
    expect(commentOf(key).length).toBeGreaterThan(20);
  });

  test('the comments give the allowed values and units', () => {
    expect(commentOf('evidence')).toContain('direction: maximize or minimize');
    expect(commentOf('budget')).toMatch(/costUsd \(US\s+dollars\)/);
    expect(commentOf('executor')).toMatch(/codex \(Codex CLI\), claude \(Claude Code\) or shell/);
    // A logged-in user needs no spec line; the API-key alternative is named.
    expect(commentOf('executor')).toMatch(/logged in.*codex login.*use that login.*CODEX_API_KEY.*ANTHROPIC_API_KEY/);
    expect(commentOf('executor')).toContain('loop-station doctor --spec');
    const flat = text.replace(/\n# /g, ' ');
    for (const c of DECISION_CLASSES) expect(flat).toMatch(new RegExp(`[ ,]${c}[,.]`));
  });

  test('every agent kind the comments name is one the spec takes', () => {
    const kinds = ['codex', 'claude', 'shell', 'external'];
    for (const kind of kinds) {
      expect(commentOf('executor') + commentOf('reviewers')).toContain(kind);
      const reviewer = { name: 'second', agent: kind, ...(kind === 'shell' ? { command: 'true' } : {}) };
      expect(LoopSpecSchema.safeParse({ ...spec, reviewers: [reviewer] }).success, kind).toBe(true);
    }
  });

  test('no comment line is wider than 100 characters', () => {
    expect(text.split('\n').filter((l) => l.startsWith('#') && l.length > 100)).toEqual([]);
  });
});

describe('initCommand: a brief as a researcher writes it', () => {
  const quiet: Output = { json: false, color: false, data() {}, json_() {}, log() {} };
  const brief = { name: 'denoise', goal: 'Raise PSNR', evidence: 'python eval.py', metric: 'psnr' };
  const refusal = async (options: InitOptions) =>
    initCommand(options, quiet).then(
      () => 'written',
      (error: Error) => error.message,
    );

  test('budget, pasted values and comma-separated patterns reach the spec as the brief meant them', async () => {
    const dir = await testdir();
    const file = join(dir, 'loop.yaml');
    await initCommand(
      {
        file,
        ...brief,
        // Pasted from a CRLF brief with a byte-order mark.
        metric: '\uFEFFpsnr\r',
        goal: 'Raise PSNR\r\non the validation set\r\n',
        evidence: ' python eval.py --json\r\n',
        wallClock: '2d',
        perRun: '1h',
        tokens: 2_000_000,
        costUsd: 20,
        protected: ['eval.py, data/**', 'eval.{py,json}'],
        workspace: ['src/**,configs/train.yaml'],
      },
      quiet,
    );
    const spec = YAML.parse(await readFile(file, 'utf8')) as LoopSpecInput;
    expect(spec.budget).toEqual({ sessions: 10, wallClock: '2d', perRun: '1h', tokens: 2_000_000, costUsd: 20 });
    expect([spec.evidence.metric, spec.evidence.command]).toEqual(['psnr', 'python eval.py --json']);
    expect(spec.goal).toBe('Raise PSNR\non the validation set');
    expect(spec.protected).toEqual(['eval.py', 'data/**', 'eval.{py,json}']);
    expect(spec.workspace).toEqual(['src/**', 'configs/train.yaml']);
  });

  test('a limit in bare seconds under a minute is written as given and warned about; a 0 limit is refused', async () => {
    const dir = await testdir();
    const file = join(dir, 'loop.yaml');
    const logged: string[] = [];
    await initCommand({ file, ...brief, wallClock: '10', perRun: '600' }, { ...quiet, log: (t) => logged.push(t) });
    expect(logged).toEqual([
      'warning: --wall-clock: "10" is read as 10 seconds (a bare number is seconds)\n' +
        '  fix: write 10s to keep it, or 10m or 10h for minutes or hours',
      expect.stringMatching(/^wrote /),
    ]);
    expect(await refusal({ file: join(dir, 'b.yaml'), ...brief, perRun: '0m' })).toMatch(
      /^--per-run: must be longer than 0 \(got "0m"\)/,
    );
  });

  test('bare seconds are found in every limit, agents included, and nowhere else', () => {
    expect(
      bareSecondsWarnings({
        budget: { sessions: 5, wallClock: 8, perRun: '45m' },
        evidence: { timeout: 30.5 },
        reviewWait: { startTimeout: '5', doneTimeout: 1800 },
        onFailure: { backoff: 5 },
        executor: { agent: 'shell', idleTimeout: 1 },
        reviewers: [{ name: 'a' }, { name: 'b', timeout: 20 }],
      }).map((w) => w.message),
    ).toEqual([
      'budget.wallClock: 8 is read as 8 seconds (a bare number is seconds)',
      'reviewWait.startTimeout: "5" is read as 5 seconds (a bare number is seconds)',
      'executor.idleTimeout: 1 is read as 1 second (a bare number is seconds)',
      'reviewers.1.timeout: 20 is read as 20 seconds (a bare number is seconds)',
    ]);
  });

  test("a --root given on the command line is from the current folder, the spec's own root from the spec's", async () => {
    const dir = await testdir({ 'specs/.keep': '' });
    const file = join(dir, 'specs', 'loop.yaml');
    await initCommand({ file, ...brief, root: 'exp' }, quiet);
    expect((await loadLoopSpec(file)).config.root).toBe(join(dir, 'specs', 'exp'));
    expect((await loadLoopSpec(file, { root: 'exp5' })).config.root).toBe(join(process.cwd(), 'exp5'));
  });

  test('a root written ~/… is under the home folder, as a shell reads it, not a folder named ~', async () => {
    const dir = await testdir();
    const file = join(dir, 'loop.yaml');
    await initCommand({ file, ...brief, root: 'exp' }, quiet);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/^root: .*$/m, 'root: ~/experiments/run1'));
    expect((await loadLoopSpec(file)).config.root).toBe(join(homedir(), 'experiments', 'run1'));
    await writeFile(file, text.replace(/^root: .*$/m, 'root: "~"'));
    expect((await loadLoopSpec(file)).config.root).toBe(homedir());
    // Unquoted, YAML reads it as null: said so, not "must be text".
    await writeFile(file, text.replace(/^root: .*$/m, 'root: ~'));
    await expect(loadLoopSpec(file)).rejects.toThrow(/root: a bare ~ is null in YAML, not your home folder/);
  });

  test('a .json spec is JSON that submit reads back', async () => {
    const dir = await testdir();
    const file = join(dir, 'loop.json');
    await initCommand({ file, ...brief }, quiet);
    const { spec } = await loadLoopSpec(file);
    expect([spec.name, spec.evidence.metric]).toEqual(['denoise', 'psnr']);
  });

  test('every missing option is named at once, and bad values name their option', async () => {
    const dir = await testdir();
    const file = join(dir, 'loop.yaml');
    expect(await refusal({ file, name: 'x', goal: '  ' })).toBe(
      'init: --goal, --evidence, --metric: required options not given (or empty)\n' +
        '  fix: give each (loop-station init --help has an example); nothing was written',
    );
    expect(await refusal({ file, ...brief, name: 'Vision Run #3', wallClock: '10 hours' })).toBe(
      '--name: must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit (got "Vision Run #3"); did you mean vision-run-3?\n' +
        '--wall-clock: must be a duration such as 90s, 45m or 1h30m (units d h m s ms, no spaces) or a number of seconds (got "10 hours"); did you mean 10h?\n' +
        '  fix: correct the options above; nothing was written',
    );
    expect(await refusal({ file, ...brief, executor: ' ' })).toMatch(/^init: --executor: empty\n/);
    // A key pasted into a command would be kept in the spec, the history and FRAME.md.
    expect(
      await refusal({ file, ...brief, evidence: 'HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 python eval.py' }),
    ).toMatch(/^--evidence: holds what looks like a Hugging Face token \(hf_AbC…, 39 characters\)\n {2}fix: remove it/);
    expect(await readdir(dir)).toEqual([]);
  });

  test('it writes only the file it was given: not a brief, a folder, a missing folder or through a link', async () => {
    const dir = await testdir();
    const outside = await testdir();
    await writeFile(join(dir, 'brief.md'), '## Goal\nRaise PSNR\n');
    expect(await refusal({ file: join(dir, 'brief.md'), ...brief, force: true })).toMatch(
      /brief\.md: a loop spec is a \.yaml, \.yml or \.json file\n {2}fix: name it loop\.yaml/,
    );
    await mkdir(join(dir, 'specs.yaml'));
    expect(await refusal({ file: join(dir, 'specs.yaml'), ...brief, force: true })).toMatch(
      /specs\.yaml: is a folder\n/,
    );
    expect(await refusal({ file: join(dir, 'a/b/loop.yaml'), ...brief })).toMatch(
      /a\/b: no such folder\n {2}fix: create it/,
    );
    // A dangling link is a name that exists: refused without --force, never followed out of the folder.
    await symlink(join(outside, 'new.yaml'), join(dir, 'dangling.yaml'));
    expect(await refusal({ file: join(dir, 'dangling.yaml'), ...brief })).toMatch(/dangling\.yaml: already exists\n/);
    await writeFile(join(outside, 'kept.yaml'), 'theirs\n');
    await symlink(join(outside, 'kept.yaml'), join(dir, 'link.yaml'));
    expect(await refusal({ file: join(dir, 'link.yaml'), ...brief, force: true })).toBe('written');
    expect(await readdir(outside)).toEqual(['kept.yaml']);
    expect(await readFile(join(outside, 'kept.yaml'), 'utf8')).toBe('theirs\n');
    expect((await lstat(join(dir, 'link.yaml'))).isFile()).toBe(true);
    expect(await readFile(join(dir, 'brief.md'), 'utf8')).toBe('## Goal\nRaise PSNR\n');
  });
});
