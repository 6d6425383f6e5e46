import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkBodyIdentity, type FlagBody, parseFlagBody, readStrictFlagBody, renderFlagBody } from './flag-body.js';
import { ROLES, STATUSES } from '../vocabulary.js';

const HASH = 'ab'.repeat(32);
const REVIEW_DONE: FlagBody = {
  timestamp: '2026-11-24T10:21:40.010Z',
  producer: 'CLAUDE',
  role: 'REVIEWER',
  session: 7,
  status: 'DONE',
  seq: 44,
  writer: 'engine',
  artifact: [{ sha256: HASH, path: 'loop_station/reviews/session_007/CLAUDE-SESSION007-REVIEWER-DONE.md' }],
  next: ['LOOP_STATION'],
};

describe('renderFlagBody (§2.2)', () => {
  test('writes keys in §2.2 order with the session as NNN', () => {
    expect(renderFlagBody(REVIEW_DONE)).toBe(
      [
        'timestamp: 2026-11-24T10:21:40.010Z',
        'producer: CLAUDE',
        'role: REVIEWER',
        'session: 007',
        'status: DONE',
        'seq: 44',
        'writer: engine',
        `artifact: sha256:${HASH} loop_station/reviews/session_007/CLAUDE-SESSION007-REVIEWER-DONE.md`,
        'next: LOOP_STATION',
        '',
      ].join('\n'),
    );
  });

  test('repeats artifact and expect, writes wait and - for no next', () => {
    const ready: FlagBody = {
      timestamp: '2026-11-24T10:00:00.000Z',
      producer: 'LOOP_STATION',
      role: 'SUPERVISOR',
      session: 1234,
      status: 'READY',
      seq: 5,
      writer: 'engine',
      artifact: [
        { sha256: HASH, path: 'a.md' },
        { sha256: null, path: 'b.md' },
      ],
      expect: [
        { agent: 'CLAUDE', path: 'r/c.md' },
        { agent: 'LINT', path: 'r/l.md' },
      ],
      wait: { startSeconds: 300, doneSeconds: 1800, heartbeatSeconds: 0.5, skipOnTimeout: false },
      next: [],
      note: 'two\nlines',
    };
    expect(renderFlagBody(ready)).toBe(
      [
        'timestamp: 2026-11-24T10:00:00.000Z',
        'producer: LOOP_STATION',
        'role: SUPERVISOR',
        'session: 1234',
        'status: READY',
        'seq: 5',
        'writer: engine',
        `artifact: sha256:${HASH} a.md`,
        'artifact: b.md',
        'expect: CLAUDE r/c.md',
        'expect: LINT r/l.md',
        'wait: start=300s done=1800s heartbeat=0.5s skip_on_timeout=false',
        'next: -',
        'note: two lines',
        '',
      ].join('\n'),
    );
  });

  test('folds free text to 1,000 characters and refuses a body over 16 KiB', () => {
    const long = renderFlagBody({ ...REVIEW_DONE, status: 'BLOCKED', artifact: undefined, reason: 'x'.repeat(1500) });
    expect(long.split('\n').find((l) => l.startsWith('reason: '))!.length).toBe('reason: '.length + 1000);
    const many = Array.from({ length: 200 }, (_, i) => ({
      sha256: HASH,
      path: `loop_station/some/deeply/nested/artifact-${i}.md`,
    }));
    expect(() => renderFlagBody({ ...REVIEW_DONE, artifact: many })).toThrow(
      /^flag body is 2\d{4} bytes; the limit is 16384: list fewer artifacts or shorten values$/,
    );
  });

  test('a body the schema refuses throws', () => {
    expect(() => renderFlagBody({ ...REVIEW_DONE, timestamp: '2026-11-24 10:21' })).toThrow(
      'must be ISO-8601 UTC with milliseconds and Z',
    );
  });
});

const bodyArb: fc.Arbitrary<FlagBody> = fc.record(
  {
    timestamp: fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    producer: fc.stringMatching(/^[A-Z0-9][A-Z0-9._]{0,8}$/),
    role: fc.constantFrom(...ROLES),
    session: fc.nat({ max: 5000 }),
    status: fc.constantFrom(...STATUSES),
    seq: fc.option(fc.nat(), { nil: undefined }),
    writer: fc.option(fc.constant('engine' as const), { nil: undefined }),
    artifact: fc.option(
      fc.array(
        fc.record({
          sha256: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
          path: fc.stringMatching(/^[a-z_/.]{1,20}$/),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      { nil: undefined },
    ),
    next: fc.array(fc.stringMatching(/^[A-Z_]{1,8}$/), { maxLength: 3 }),
    reason: fc.option(
      fc.stringMatching(/^\S(.{0,40}\S)?$/).filter((s) => !/\s{2}/.test(s)),
      { nil: undefined },
    ),
  },
  { requiredKeys: ['timestamp', 'producer', 'role', 'session', 'status', 'next'] },
);

describe('parseFlagBody', () => {
  test('reads back exactly what renderFlagBody writes', () => {
    fc.assert(
      fc.property(bodyArb, (body) => {
        const clean = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as FlagBody;
        expect(readStrictFlagBody(renderFlagBody(clean))).toEqual(clean);
      }),
      { numRuns: 300 },
    );
  });

  test.for([
    ['empty', '', 'empty', {}],
    ['free text', 'review finished, see file\n', 'text', {}],
    [
      'key: value with aliases',
      'agent: claude\nsession: 7\nstatus: done\n',
      'key-value',
      { producer: 'claude', session: 7, status: 'done' },
    ],
    [
      'JSON',
      '{"agent":"CLAUDE","session":"007","role":"TESTER","artifact":["r.md"],"seq":3}',
      'json',
      { producer: 'CLAUDE', session: 7, role: 'TESTER', seq: 3, artifact: [{ sha256: null, path: 'r.md' }] },
    ],
    [
      'YAML with a list',
      `---\nproducer: "CLAUDE"\nartifact:\n  - sha256:${HASH} r.md\n  - s.md\n`,
      'yaml',
      {
        producer: 'CLAUDE',
        artifact: [
          { sha256: HASH, path: 'r.md' },
          { sha256: null, path: 's.md' },
        ],
      },
    ],
    [
      'a Markdown list, as original agents write flags',
      '# CODEX-SESSION001-EXECUTOR-DONE\n\n- producer: CODEX\n- session: 001\n- artifacts:\n  - `a.md`\n  - b.md\n- next_agent: CLAUDE\n',
      'yaml',
      {
        producer: 'CODEX',
        session: 1,
        next: ['CLAUDE'],
        artifact: [
          { sha256: null, path: 'a.md' },
          { sha256: null, path: 'b.md' },
        ],
      },
    ],
    [
      "the original SKILL.md's words, artifacts on one line",
      'producer_agent: CODEX\ncreated_at: 2026-11-20 10:06\nartifacts: a.md, b.md\nblocking_reason: out of memory\n',
      'key-value',
      {
        producer: 'CODEX',
        timestamp: '2026-11-20 10:06',
        reason: 'out of memory',
        artifact: [
          { sha256: null, path: 'a.md' },
          { sha256: null, path: 'b.md' },
        ],
      },
    ],
  ] as const)('%s', ([, text, format, fields]) => {
    const parsed = parseFlagBody(text);
    expect([parsed.format, parsed.fields, readStrictFlagBody(text)]).toEqual([
      format,
      { artifact: [], expect: [], ...fields },
      undefined,
    ]);
  });

  test('bad values become warnings, not errors', () => {
    expect(parseFlagBody('session: seven\nseq: x\nartifact: two words here\n').warnings).toEqual([
      'session: seven is not a session number',
      'seq: x is not an integer',
      'artifact: two words here is not `sha256:<hex> <path>` or `<path>`',
    ]);
  });

  test('readStrictFlagBody refuses key order or spacing off the strict form', () => {
    const strict = renderFlagBody(REVIEW_DONE);
    const swapped = strict.replace('producer: CLAUDE\nrole: REVIEWER', 'role: REVIEWER\nproducer: CLAUDE');
    expect([
      readStrictFlagBody(strict),
      readStrictFlagBody(swapped),
      readStrictFlagBody(strict.replace('seq: 44', 'seq:  44')),
    ]).toEqual([REVIEW_DONE, undefined, undefined]);
    expect(parseFlagBody(swapped).fields.producer).toBe('CLAUDE');
  });
});

describe('checkBodyIdentity', () => {
  const name = { agent: 'CLAUDE', session: 7, role: 'REVIEWER' as const, status: 'DONE' as const, occurrence: 1 };
  test('accepts case and TESTER/ANALYST for REVIEWER, reports each differing field', () => {
    expect(
      checkBodyIdentity(name, {
        producer: 'claude',
        role: 'tester',
        session: 7,
        status: 'done',
        artifact: [],
        expect: [],
      }),
    ).toEqual([]);
    expect(
      checkBodyIdentity(name, {
        producer: 'GEMINI',
        role: 'EXECUTOR',
        session: 8,
        status: 'BLOCKED',
        artifact: [],
        expect: [],
      }),
    ).toEqual([
      { field: 'producer', name: 'CLAUDE', body: 'GEMINI' },
      { field: 'role', name: 'REVIEWER', body: 'EXECUTOR' },
      { field: 'session', name: '007', body: '008' },
      { field: 'status', name: 'DONE', body: 'BLOCKED' },
    ]);
  });
});
