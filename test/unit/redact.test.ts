import { describe, expect, test } from 'vitest';
import { redactStrings, secretRedactor } from '../../activities/agents/redact.js';
import { inspectReview } from '../../activities/session-steps.js';
import { testdir } from '../helpers/testdir.js';

describe('secretRedactor', () => {
  test('replaces the allowed names and the key variables the worker has; values under 8 characters stay', () => {
    const redact = secretRedactor(['MY_TOKEN', 'SHORT', 'UNSET'], { MY_TOKEN: 'tok-12345678', SHORT: 'abc1234', ANTHROPIC_API_KEY: 'sk-ant-0000000000', OTHER: 'not-allowed-value' });
    expect(redact('tok-12345678 abc1234 sk-ant-0000000000 not-allowed-value')).toBe('[redacted:MY_TOKEN] abc1234 [redacted:ANTHROPIC_API_KEY] not-allowed-value');
  });

  test('a value holding another is replaced whole, and a marker is never matched again', () => {
    const redact = secretRedactor(['A', 'B', 'C'], { A: 'secret-value', B: 'secret-value-longer', C: 'redacted:A' });
    expect(redact('secret-value-longer, secret-value')).toBe('[redacted:B], [redacted:A]');
  });

  test('a value as a JSON string escapes it: that form is replaced too', () => {
    const redact = secretRedactor(['Q'], { Q: 'pa"ss\\word' });
    expect(redact(JSON.stringify({ text: 'pa"ss\\word' }))).toBe('{"text":"[redacted:Q]"}');
  });

  test('redactStrings reaches every string of a result, keys and other values untouched', () => {
    const redact = secretRedactor(['K'], { K: 'key-abcdefgh' });
    expect(redactStrings({ reason: 'got key-abcdefgh', tails: ['x key-abcdefgh'], exitCode: 1, sessionId: null }, redact)).toEqual({ reason: 'got [redacted:K]', tails: ['x [redacted:K]'], exitCode: 1, sessionId: null });
  });
});

test('inspectReview redacts what the reviewer was given from its review digest and reason', async () => {
  process.env.LS_REVIEW_SECRET = 'review-secret-123';
  try {
    const root = await testdir({
      'loop_station/reviews/session_001/REV-SESSION001-REVIEWER-DONE.md': [
        'agent: REV', 'session: 001', 'status: BLOCKED', 'blocked_reason: review-secret-123 was refused', '', '## Risks Or Confounds', 'the key review-secret-123 leaked', '',
      ].join('\n'),
    });
    const inspected = await inspectReview({ root, session: 1, token: 'REV', exitedOk: true, reason: null, env: ['LS_REVIEW_SECRET'] });
    expect([inspected.status, inspected.reason, inspected.review.risks]).toEqual(['BLOCKED', 'review says BLOCKED: [redacted:LS_REVIEW_SECRET] was refused', 'the key [redacted:LS_REVIEW_SECRET] leaked']);
  } finally {
    delete process.env.LS_REVIEW_SECRET;
  }
});
