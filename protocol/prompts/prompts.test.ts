import { describe, expect, test } from 'vitest';
import { readAgentDecisionBlock } from '../decision.js';
import type { DecisionBlock } from '../schemas/state.js';
import { DECISION_CLASSES, STOP_REASONS } from '../vocabulary.js';
import { type PromptContext, renderExecutorPrompt, renderReviewerPrompt, renderSupervisorPrompt } from './prompts.js';
import { renderUnattendedNote } from './unattended-note.js';

const CONTEXT: PromptContext = {
  config: {
    goal: 'Raise PSNR',
    budget: { sessions: 10, wallClockMs: null, perRunMs: null, tokens: null, costUsd: null, resources: [] },
    evidence: {
      command: 'python eval.py --json',
      metric: 'psnr',
      direction: 'maximize',
      protect: ['ssim >= 0.8'],
      success: [],
      plateau: 3,
      minDelta: 0,
      timeoutMs: 60_000,
      artifacts: ['out/*.png'],
    },
    workspace: ['denoise/**'],
    protected: ['eval.py'],
  },
  session: 5,
  sessionLabel: '005',
  agent: 'CODEX',
  instructions: null,
};

const SUGGESTED: DecisionBlock = {
  class: 'keep',
  session: 5,
  metric: 'psnr',
  value: 28.4,
  best_session: 3,
  best_value: 28.9,
  axis: 'kernel',
  next_axis: null,
  protection: 'pass',
  reviews: [{ agent: 'CLAUDE', verdict: 'uncertain' }],
  approval: 'none',
  on_approve: null,
  on_deny: null,
  stop_reason: null,
  source: 'builtin',
  reason: 'rule 6: 28.4 does not beat the best 28.9',
  next: null,
};

const PACK = {
  session: 5,
  images: [
    'loop_station/sessions/session_005/evidence/artifacts/out/denoised.png',
    'loop_station/sessions/session_003/evidence/artifacts/out/denoised.png',
  ],
};
const PACK_DIR = 'loop_station/sessions/session_005/evidence_pack';

const lines = (text: string) => text.split('\n');

describe('the reviewer prompt', () => {
  const prompt = renderReviewerPrompt({
    ...CONTEXT,
    agent: 'CLAUDE',
    reviewPath: 'loop_station/reviews/session_005/CLAUDE-SESSION005-REVIEWER-DONE.md',
    artifacts: ['loop_station/sessions/session_005/executor_report.md'],
    pack: PACK,
  });

  test('names every file of the evidence pack with what to check in it', () => {
    const named = lines(prompt).filter((l) => l.includes(PACK_DIR));
    expect(named.map((l) => /evidence_pack\/([\w.]+)/.exec(l)?.[1])).toEqual([
      'README.md',
      'diff_vs_best.patch',
      'metrics.md',
      'images.md',
      'logs.md',
      'reviews.md',
    ]);
    expect(prompt).toContain(`${PACK_DIR}/diff_vs_previous.patch`);
    expect(prompt).toContain('Rerun `python eval.py --json` from the loop root to confirm the value.');
  });

  test('says which images come with the prompt, this session first, then the best', () => {
    expect(prompt).toContain(
      `Compare these first (this session's, then the best's, pair by pair; attached to this prompt where your CLI takes images, else open them with your file-reading tool): ${PACK.images.join(', ')}.`,
    );
  });

  test('asks for the Visual Image Check on the pairs and the Historical Trend over the sessions', () => {
    expect(lines(prompt).find((l) => l.startsWith('- ## Visual Image Check'))).toBe(
      '- ## Visual Image Check: each image pair you compared (this session beside the best), visible improvements and regressions, and any mismatch with the metric; "no images" when there are none;',
    );
    expect(lines(prompt).find((l) => l.startsWith('- ## Historical Trend'))).toMatch(
      /the trend over the sessions \(real or noise\), what earlier reviews asked/,
    );
    expect(prompt).toMatch(/verdict: supported\|unsupported\|uncertain/);
    expect(prompt).toContain('still write the file, with `status: BLOCKED` and `blocked_reason:` saying why');
  });

  test('without a pack (sessions recorded before it) it still asks to rerun the evidence command', () => {
    const old = renderReviewerPrompt({ ...CONTEXT, reviewPath: 'r.md', artifacts: [], pack: null });
    expect(old).not.toContain('evidence_pack');
    expect(old).toContain('Check the claims yourself: rerun `python eval.py --json` from the loop root if you can.');
  });
});

describe('the supervisor prompt', () => {
  const prompt = renderSupervisorPrompt({
    ...CONTEXT,
    agent: 'CLAUDE',
    decisionPath: 'loop_station/sessions/session_005/decision.md',
    artifacts: ['loop_station/sessions/session_005/metrics.json'],
    suggested: SUGGESTED,
    pack: PACK,
  });

  test('says what is left of the budget after this session, when the workflow gives it', () => {
    const withBudget = renderSupervisorPrompt({
      ...CONTEXT,
      agent: 'CLAUDE',
      decisionPath: 'loop_station/sessions/session_005/decision.md',
      artifacts: [],
      suggested: SUGGESTED,
      remaining: { sessions: 1, wallClockMs: 1_190_400, tokens: null, costUsd: 4.5 },
    });
    expect(lines(withBudget)).toContain(
      'Budget left after this session: 1 session, wall clock 19m50s, tokens unlimited, cost_usd 4.5.',
    );
    expect(prompt).not.toContain('Budget left');
  });

  test('shows the built-in suggestion as one labelled input, not as a block to copy', () => {
    const labelled = lines(prompt).filter((l) => l.includes('Built-in rules'));
    expect(labelled).toEqual([
      "- Built-in rules' suggestion (a mechanical reading of the numbers, not the answer): class keep — rule 6: 28.4 does not beat the best 28.9.",
    ]);
    expect(prompt).not.toContain('class: keep');
  });

  test('lists the allowed values of every key of the block, in order', () => {
    const keyLines = lines(prompt).filter((l) => /^- [a-z_, ]+: /.test(l));
    expect(keyLines.map((l) => /^- ([a-z_, ]+):/.exec(l)![1])).toEqual([
      'class',
      'session',
      'metric',
      'value',
      'best_session',
      'best_value',
      'axis',
      'next_axis',
      'protection',
      'reviews',
      'approval',
      'on_approve, on_deny',
      'stop_reason',
      'source',
      'reason',
      'next',
    ]);
    for (const c of DECISION_CLASSES) expect(prompt).toMatch(new RegExp(`^  - ${c}: `, 'm'));
    expect(prompt).toContain(`one of ${STOP_REASONS.join(', ')}`);
    expect(prompt).toContain('- protection: pass, fail or unknown (the engine measured pass)');
    expect(prompt).toContain('- session: 005');
  });

  test('names the evidence pack and the gates the engine keeps', () => {
    expect(prompt).toContain(`start with ${PACK_DIR}/README.md`);
    expect(prompt).toMatch(
      /a promote without a measured value, with failing protection or with a changed protected file becomes needs_more_evidence/,
    );
  });

  test('a block written the way the prompt says reads back with nothing filled', () => {
    const block = [
      '```loop-station-decision',
      'class: return_to_best',
      'session: 005',
      'metric: psnr',
      'value: 28.4',
      'best_session: 003',
      'best_value: 28.9',
      'axis: kernel',
      'next_axis: schedule',
      'protection: pass',
      'reviews: CLAUDE:uncertain',
      'approval: none',
      'on_approve: null',
      'on_deny: null',
      'stop_reason: null',
      'source: agent',
      'reason: the kernel axis is flat',
      'next: try the noise schedule',
      '```',
    ].join('\n');
    const read = readAgentDecisionBlock(block, { session: 5, builtin: SUGGESTED });
    expect(read).toMatchObject({ filled: [], notes: [], block: { class: 'return_to_best', source: 'agent' } });
  });
});

describe('the executor prompt', () => {
  const base = {
    ...CONTEXT,
    reportPath: 'loop_station/sessions/session_005/executor_report.md',
    proposalPath: 'loop_station/sessions/session_005/executor_proposal.md',
    lastDecision: { ...SUGGESTED, session: 4, class: 'needs_code_variant' as const, reason: 'too risky in place' },
    redirects: [],
    best: { session: 3, value: 28.9 },
    retiredAxes: [],
  };

  test('names the scratch folders when the spec has some, and says nothing of them when it has none', () => {
    const line = "Scratch (your runs' outputs; not kept with a best, not read as your change): runs, **/wandb";
    const withScratch = { ...base, config: { ...base.config, scratch: ['runs', '**/wandb'] } };
    expect(renderExecutorPrompt(withScratch).split('\n')).toContain(line);
    expect(renderExecutorPrompt(base)).not.toContain('Scratch');
  });

  test("points at the previous session's pack, its decision and what its reviewers asked for", () => {
    const prompt = renderExecutorPrompt({
      ...base,
      previousReviews: [
        {
          agent: 'CLAUDE',
          verdict: 'unsupported',
          recommendation: 'retire',
          nextAction: '- rerun with seed 2\n- check ssim',
        },
      ],
    });
    expect(prompt).toContain(
      [
        'What session 004 found (read these before planning; skip what does not exist):',
        "- loop_station/sessions/session_004/evidence_pack/README.md: its evidence pack (diffs, metric history, images beside the best's, log tails, earlier reviews on its axis)",
        '- loop_station/sessions/session_004/decision.md: decided needs_code_variant (too risky in place)',
        '- reviewer CLAUDE (unsupported, recommends retire) asked: - rerun with seed 2 - check ssim',
      ].join('\n'),
    );
  });

  test('after needs_code_variant it asks for an isolated variant with a manifest and an entrypoint', () => {
    const prompt = renderExecutorPrompt({ ...base, needsCodeVariant: true });
    expect(prompt).toContain('do NOT edit the workspace files in place');
    expect(prompt).toContain('- a folder loop_station/code_variants/session_005/<slug>/ (slug: lower-case letters');
    expect(prompt).toMatch(
      /its manifest\.json with every field of docs\/protocol\.md#code-variants: `session`, `change_slug`, `reason`, `source_files`, `variant_files`.*`entrypoint`.*`config`, `command`.*`maintained_source_modified: false`, `restore_manifest: null`, `created_at`/,
    );
    expect(prompt).toContain('except those two files and your code variant.');
    expect(renderExecutorPrompt({ ...base, needsCodeVariant: false })).not.toContain('code variant');
  });

  test("an agent supervisor's decision is pointed at in its own words", () => {
    const agent = { ...base.lastDecision, class: 'retire' as const, source: 'agent' as const };
    expect(renderExecutorPrompt({ ...base, lastDecision: agent })).toContain(
      '- loop_station/sessions/session_004/decision.md: decided retire (too risky in place)\n' +
        "- loop_station/sessions/session_004/decision.agent.md: the supervisor's decision as it wrote it " +
        '(its next action, pivot and reasoning)\n',
    );
    expect(renderExecutorPrompt(base)).not.toContain('decision.agent.md');
  });

  test('says how the previous session ended: a crashed evaluator, its logs, and a workspace restored to the best', () => {
    const retired = {
      ...base.lastDecision,
      class: 'retire' as const,
      reason: 'rule 3: protection failed: ssim >= 0.8',
    };
    const prompt = renderExecutorPrompt({
      ...base,
      lastDecision: retired,
      previousOutcome: {
        executor: { status: 'DONE', reason: null },
        evidence: {
          value: null,
          error: 'evidence command exited with code 3',
          protection: [{ criterion: 'ssim >= 0.8', value: null, pass: false }],
        },
        applied: 'retire',
      },
    });
    expect(prompt).toContain(
      '- its evidence command failed (evidence command exited with code 3), so nothing was measured: read why in ' +
        'loop_station/sessions/session_004/runs/evidence.stderr.log and loop_station/sessions/session_004/runs/evidence.stdout.log',
    );
    expect(prompt).toContain("- the workspace was restored to the best (session 003): session 004's change is gone\n");
  });

  test('says what the previous session measured, why its executor stopped, and that an unpromoted change is still there', () => {
    const held = renderExecutorPrompt({
      ...base,
      lastDecision: { ...base.lastDecision, class: 'needs_more_evidence' as const },
      previousOutcome: {
        executor: { status: 'DONE', reason: null },
        evidence: { value: 29.4, error: null, protection: [{ criterion: 'ssim >= 0.8', value: 0.7, pass: false }] },
        applied: 'needs_more_evidence',
      },
    });
    expect(held).toContain('- it measured psnr = 29.4; protection failed: ssim >= 0.8 (0.7)\n');
    expect(held).toContain(
      "- the workspace still holds session 004's change (needs_more_evidence), which is not the best (session 003): " +
        'loop_station/sessions/session_004/evidence_pack/diff_vs_best.patch shows how it differs',
    );
    const blocked = renderExecutorPrompt({
      ...base,
      previousOutcome: {
        executor: { status: 'BLOCKED', reason: 'loop_station/sessions/session_004/executor_proposal.md is missing' },
        evidence: null,
        applied: 'return_to_best',
      },
    });
    expect(blocked).toContain(
      '- its executor ended BLOCKED: loop_station/sessions/session_004/executor_proposal.md is missing\n' +
        '- its evidence did not run: nothing was measured\n',
    );
    expect(renderExecutorPrompt(base)).not.toContain('- its ');
  });

  test('a denied success ask (keep) left the session the best: its change is not called unpromoted', () => {
    const prompt = renderExecutorPrompt({
      ...base,
      best: { session: 4, value: 29.4 },
      lastDecision: { ...base.lastDecision, class: 'ask_user' as const },
      previousOutcome: {
        executor: { status: 'DONE', reason: null },
        evidence: { value: 29.4, error: null, protection: [] },
        applied: 'keep',
      },
    });
    expect(prompt).toContain('- the workspace holds its change, now the best (session 004)\n');
    expect(prompt).not.toContain('which is not the best');
  });

  test("the built-in rules' next (the agent that runs next) is not shown as advice; an agent's next is", () => {
    const builtin = { ...base.lastDecision, next: 'CODEX' };
    expect(renderExecutorPrompt({ ...base, lastDecision: builtin })).not.toContain('next: CODEX');
    const agent = { ...builtin, source: 'agent' as const, next: 'try the median filter' };
    expect(renderExecutorPrompt({ ...base, lastDecision: agent })).toContain('; next: try the median filter');
  });

  test('a long review is cut at a word boundary, not inside a word', () => {
    const prompt = renderExecutorPrompt({
      ...base,
      previousReviews: [
        { agent: 'CLAUDE', verdict: 'supported', recommendation: 'keep', nextAction: 'wordy '.repeat(200) + 'END' },
      ],
    });
    const line = prompt.split('\n').find((l) => l.startsWith('- reviewer CLAUDE'))!;
    expect(line).toMatch(/ wordy…$/);
    expect(line).not.toContain('END');
  });

  test('session 1 has no previous session to read', () => {
    const prompt = renderExecutorPrompt({ ...base, session: 1, sessionLabel: '001', lastDecision: null });
    expect(prompt).not.toContain('evidence_pack');
  });

  test('says the engine writes its RUNNING and DONE flags, whatever another skill says', () => {
    expect(renderExecutorPrompt(base)).toContain(
      'the engine writes every flag, your RUNNING and DONE included, so write nothing under loop_station/flags/ even if another LOOP-STATION skill tells you to',
    );
  });
});

describe('the unattended note', () => {
  test('names the role, the files to write, no questions, and what to write instead, per role', () => {
    expect(
      renderUnattendedNote({
        role: 'EXECUTOR',
        agent: 'CODEX',
        session: 7,
        mustWrite: [
          'loop_station/sessions/session_007/executor_report.md',
          'loop_station/sessions/session_007/executor_proposal.md',
        ],
      }),
    ).toBe(
      'You run unattended as CODEX, the EXECUTOR of session 007 of a loop-station loop: nobody reads this conversation while it runs, and nobody will answer a question. ' +
        'Before you end your turn, write loop_station/sessions/session_007/executor_report.md and loop_station/sessions/session_007/executor_proposal.md (paths relative to the working directory, the loop root). ' +
        'Never end your turn with a question or a request for confirmation: decide yourself and go on. ' +
        'If you cannot do the task, still write them: loop_station/sessions/session_007/executor_report.md with the header line `status: ABSTAIN` and, under ## Failures Or Surprises, what stopped you; then stop. ' +
        'Never write under loop_station/flags/: the engine writes every flag.',
    );
    const review = renderUnattendedNote({ role: 'REVIEWER', agent: 'CLAUDE', session: 7, mustWrite: ['r.md'] });
    expect(review).toContain('still write r.md with `status: BLOCKED` (you could not review) or `status: ABSTAIN`');
    const decide = renderUnattendedNote({ role: 'SUPERVISOR', agent: 'CLAUDE', session: 7, mustWrite: ['d.md'] });
    expect(decide).toContain('still write d.md: the class you judge best from what you could check');
  });
});
