import { describe, expect, test } from 'vitest';
import { AGENT_KINDS, type AgentKind } from '../../vocabulary.js';
import { AgentConfigSchema, toLoopConfig } from '../loop-config.js';
import { LoopSpecSchema } from '../loop-spec.js';
import { AGENT_KIND_SCHEMAS, type AgentKindSchemas } from './kinds.js';

// A kind added to AGENT_KINDS without its schemas does not compile: the table is keyed by the union.
// @ts-expect-error -- `gemini` has no schemas
const _missing: Readonly<Record<AgentKind | 'gemini', AgentKindSchemas>> = AGENT_KIND_SCHEMAS;

const spec = (executor: object, reviewers: object[] = []) => ({
  name: 'agents',
  root: '.',
  goal: 'g',
  budget: { sessions: 1 },
  evidence: { command: 'node eval.mjs', metric: 'score' },
  executor,
  reviewers,
});
const issues = (input: object) => {
  const parsed = LoopSpecSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('agent kinds: one options schema each, shared by the spec, the config and the adapter', () => {
  test("a kind's options travel from the spec to the config as `options`, its command beside them", () => {
    const config = toLoopConfig(
      LoopSpecSchema.parse(
        spec(
          {
            agent: 'codex',
            effort: 'high',
            sandbox: 'read-only',
            config: { model_provider: '"fake"' },
            command: '/opt/codex',
          },
          [
            { agent: 'claude', permissionMode: 'plan', allowedTools: ['Read'], bare: true, maxTurns: 3 },
            { agent: 'shell', command: 'node review.mjs' },
            { agent: 'external', name: 'human' },
          ],
        ),
      ),
      '/loops/agents',
    );
    expect([config.executor, ...config.reviewers].map((a) => [a.kind, a.command, a.options])).toEqual([
      ['codex', '/opt/codex', { effort: 'high', sandbox: 'read-only', config: { model_provider: '"fake"' } }],
      ['claude', null, { permissionMode: 'plan', allowedTools: ['Read'], bare: true, maxTurns: 3 }],
      ['shell', 'node review.mjs', {}],
      ['external', null, {}],
    ]);
    for (const agent of [config.executor, ...config.reviewers]) {
      expect(AgentConfigSchema.parse(agent)).toEqual(agent);
      expect(AGENT_KIND_SCHEMAS[agent.kind].options.parse(agent.options)).toEqual(agent.options);
    }
  });

  test("one kind's option is refused on another, by the spec and by the adapter's schema", () => {
    expect(issues(spec({ agent: 'shell', command: 'true', effort: 'high' }))).toEqual([
      'executor: Unrecognized key: "effort"',
    ]);
    expect(issues(spec({ agent: 'codex', permissionMode: 'plan' }))).toEqual([
      'executor: Unrecognized key: "permissionMode"',
    ]);
    expect(AGENT_KIND_SCHEMAS.claude.options.safeParse({ effort: 'high' }).success).toBe(false);
    expect(
      AgentConfigSchema.safeParse({
        token: 'X',
        kind: 'claude',
        model: null,
        command: null,
        required: true,
        timeoutMs: null,
        env: [],
        instructions: null,
        options: { sandbox: 'read-only' },
      }).success,
    ).toBe(false);
  });

  test('only the kinds the engine launches may execute or supervise; every kind may review', () => {
    for (const kind of AGENT_KINDS) {
      const fields = kind === 'shell' ? { agent: kind, command: 'true' } : { agent: kind };
      const launched = AGENT_KIND_SCHEMAS[kind].launched;
      expect
        .soft(issues(spec(fields)), kind)
        .toEqual(
          launched ? [] : ['executor.agent: the executor must be launched by the engine: use codex, claude or shell'],
        );
      expect
        .soft(issues({ ...spec({ agent: 'shell', command: 'true' }), supervisor: fields }), kind)
        .toEqual(
          launched
            ? []
            : [`supervisor.agent: an ${kind} supervisor is not supported: use builtin, codex, claude or shell`],
        );
      expect
        .soft(issues(spec({ agent: 'shell', command: 'true' }, [{ ...fields, name: `r_${kind}` }])), kind)
        .toEqual([]);
    }
  });
});
