import { describe, expect, test } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAgentDecision } from '../../activities/artifacts.js';
import { redactStrings, secretRedactor } from '../../activities/agents/redact.js';
import type { DecisionBlock } from '../../protocol/schemas/state.js';
import { inspectReview } from '../../activities/session-steps.js';
import { testdir } from '../helpers/testdir.js';

describe('secretRedactor', () => {
  test('replaces the allowed names that look secret and the key variables the worker has; values under 8 characters stay', () => {
    const redact = secretRedactor(['MY_TOKEN', 'SHORT_KEY', 'UNSET_SECRET'], {
      MY_TOKEN: 'tok-12345678',
      SHORT_KEY: 'abc1234',
      ANTHROPIC_API_KEY: 'sk-ant-0000000000',
      OTHER_TOKEN: 'not-allowed-value',
    });
    expect(redact('tok-12345678 abc1234 sk-ant-0000000000 not-allowed-value')).toBe(
      '[redacted:MY_TOKEN] abc1234 [redacted:ANTHROPIC_API_KEY] not-allowed-value',
    );
  });

  test('paths and settings stay readable; a secret: entry, a preset member that looks secret and a proxy password do not', () => {
    const source = {
      CODEX_HOME: '/home/u/.codex',
      CUDA_VISIBLE_DEVICES: '0,1,2,3,4,5,6,7',
      LD_LIBRARY_PATH: '/usr/local/cuda/lib64',
      WANDB_API_KEY: 'wandb-0123456789',
      HF_HOME: '/data/huggingface',
      DB_URL: 'postgres://ada:hunter2-horse@db:5432/x',
      HTTPS_PROXY: 'http://bob:proxy-pass-123@proxy:3128',
      PLAIN: 'plain-but-marked',
    };
    const redact = secretRedactor(
      ['CODEX_HOME', 'preset:gpu', 'preset:python', 'preset:proxy', 'DB_URL', 'secret:PLAIN'],
      source,
    );
    const text = Object.values(source).join(' ');
    expect(redact(text)).toBe(
      '/home/u/.codex 0,1,2,3,4,5,6,7 /usr/local/cuda/lib64 [redacted:WANDB_API_KEY] /data/huggingface ' +
        'postgres://ada:[redacted:DB_URL password]@db:5432/x ' +
        'http://bob:[redacted:HTTPS_PROXY password]@proxy:3128 [redacted:PLAIN]',
    );
  });

  test('a value holding another is replaced whole, and a marker is never matched again', () => {
    const redact = secretRedactor(['A_KEY', 'B_KEY', 'C_KEY'], {
      A_KEY: 'secret-value',
      B_KEY: 'secret-value-longer',
      C_KEY: 'redacted:A_KEY',
    });
    expect(redact('secret-value-longer, secret-value')).toBe('[redacted:B_KEY], [redacted:A_KEY]');
  });

  test('a value as a JSON string escapes it: that form is replaced too', () => {
    const redact = secretRedactor(['secret:Q'], { Q: 'pa"ss\\word' });
    expect(redact(JSON.stringify({ text: 'pa"ss\\word' }))).toBe('{"text":"[redacted:Q]"}');
  });

  test('a credential the run was not given is redacted by its shape, with or without env values, JSON-escaped too', () => {
    // Built from parts, so no scanner takes it for a live key.
    const found = ['sk-proj-', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij'].join('');
    const review = `the key ${found} in config.py is exposed`;
    const given = secretRedactor(['K_TOKEN'], { K_TOKEN: 'key-abcdefgh' });
    const none = secretRedactor([], {});
    expect(given(`${review}; key-abcdefgh`)).toBe(
      'the key [redacted: an OpenAI API key] in config.py is exposed; [redacted:K_TOKEN]',
    );
    expect(none(review)).toBe('the key [redacted: an OpenAI API key] in config.py is exposed');
    expect(none('db postgres://ada:pw@db:5432/x')).toBe('db postgres://ada:[redacted: a password in a URL]@db:5432/x');
    const event = JSON.stringify({ type: 'message', text: `read .env:\n${found}\nkey-abcdefgh` });
    expect(JSON.parse(given(event))).toEqual({
      type: 'message',
      text: 'read .env:\n[redacted: an OpenAI API key]\n[redacted:K_TOKEN]',
    });
    expect(given(given(review))).toBe(given(review));
  });

  test('redactStrings reaches every string of a result, keys and other values untouched', () => {
    const redact = secretRedactor(['K_TOKEN'], { K_TOKEN: 'key-abcdefgh' });
    expect(
      redactStrings({ reason: 'got key-abcdefgh', tails: ['x key-abcdefgh'], exitCode: 1, sessionId: null }, redact),
    ).toEqual({ reason: 'got [redacted:K_TOKEN]', tails: ['x [redacted:K_TOKEN]'], exitCode: 1, sessionId: null });
  });
});

test('inspectReview redacts what the reviewer was given from its review digest and reason', async () => {
  process.env.LS_REVIEW_SECRET = 'review-secret-123';
  try {
    const root = await testdir({
      'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md': [
        'agent: REV',
        'session: 001',
        'status: BLOCKED',
        'blocked_reason: review-secret-123 was refused',
        '',
        '## Risks Or Confounds',
        'the key review-secret-123 leaked',
        '',
      ].join('\n'),
    });
    const inspected = await inspectReview({
      root,
      session: 1,
      token: 'REV',
      exitedOk: true,
      reason: null,
      env: ['LS_REVIEW_SECRET'],
    });
    expect([inspected.status, inspected.reason, inspected.review.risks]).toEqual([
      'BLOCKED',
      'review says BLOCKED: [redacted:LS_REVIEW_SECRET] was refused',
      'the key [redacted:LS_REVIEW_SECRET] leaked',
    ]);
  } finally {
    delete process.env.LS_REVIEW_SECRET;
  }
});

test('inspectReview redacts a key the reviewer found elsewhere and wrote down, given no values', async () => {
  const found = ['sk-proj-', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij'].join('');
  const root = await testdir({
    'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md': [
      'agent: REV',
      'session: 001',
      'status: BLOCKED',
      `blocked_reason: ${found} is in config.py`,
      '',
      '## Risks Or Confounds',
      `the key ${found} in config.py is exposed`,
      '',
    ].join('\n'),
  });
  const inspected = await inspectReview({ root, session: 1, token: 'REV', exitedOk: true, reason: null, env: [] });
  expect([inspected.reason, inspected.review.risks]).toEqual([
    'review says BLOCKED: [redacted: an OpenAI API key] is in config.py',
    'the key [redacted: an OpenAI API key] in config.py is exposed',
  ]);
});

test('readAgentDecision redacts what the supervisor was given from its decision, and from the copy it keeps as decision.agent.md', async () => {
  process.env.LS_JUDGE_SECRET = 'judge-secret-456';
  try {
    const block = [
      'class: keep',
      'session: 001',
      'metric: score',
      'value: 1',
      'best_session: 000',
      'best_value: 0',
      'axis: x',
      'next_axis: null',
      'protection: pass',
      'reviews: ',
      'approval: none',
      'on_approve: null',
      'on_deny: null',
      'stop_reason: null',
      'source: agent',
      'reason: judge-secret-456 says keep',
      'next: null',
    ];
    const root = await testdir({
      'loop_station/sessions/session_001/decision.md': ['```loop-station-decision', ...block, '```', ''].join('\n'),
    });
    const builtin: DecisionBlock = {
      class: 'keep',
      session: 1,
      metric: 'score',
      value: 1,
      best_session: 0,
      best_value: 0,
      axis: 'x',
      next_axis: null,
      protection: 'pass',
      reviews: [],
      approval: 'none',
      on_approve: null,
      on_deny: null,
      stop_reason: null,
      source: 'builtin',
      reason: 'rule 6',
      next: null,
    };
    const evidence = {
      command: 'x',
      exit_code: 0,
      metrics: { score: 1 },
      metric: 'score',
      value: 1,
      protection: [],
      error: null,
    };
    const decided = await readAgentDecision({
      root,
      session: 1,
      ok: true,
      builtin,
      protectedChanged: false,
      evidence,
      env: ['LS_JUDGE_SECRET'],
    });
    expect([decided.block.source, decided.block.reason]).toEqual(['agent', '[redacted:LS_JUDGE_SECRET] says keep']);
    expect(await readFile(join(root, 'loop_station/sessions/session_001/decision.agent.md'), 'utf8')).toContain(
      'reason: [redacted:LS_JUDGE_SECRET] says keep\n',
    );
  } finally {
    delete process.env.LS_JUDGE_SECRET;
  }
});
