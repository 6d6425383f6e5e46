import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { applyClaudeEvent, claudeFailure, initialClaudeState } from '../../activities/agents/claude-events.js';
import { claudeArgs } from '../../activities/agents/claude.js';
import { codexArgs, codexKeyVariable } from '../../activities/agents/codex.js';
import {
  applyCodexEvent,
  classifyCodexMessage,
  codexFailure,
  initialCodexState,
  parseCodexResetTime,
  tokensSince,
} from '../../activities/agents/codex-events.js';
import { followJsonl } from '../../activities/agents/jsonl-follower.js';
import { testdir } from '../helpers/testdir.js';

/** Pure parts of the agent adapters: argv, event folding, failure meaning, reset times. */

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('codex events', () => {
  // Recorded from codex-cli 0.169.0 against the fake Responses server (test/fixtures/fake-models).
  const success = lines(`
{"type":"thread.started","thread_id":"01a2100d-e1cf-7872-b8b8-b19b91fbd98c"}
{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for \`fake-model\` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}
{"type":"turn.started"}
{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc \\"printf 'hello\\\\\\\\n' > report.md\\"","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Wrote report.md"}}
{"type":"turn.completed","usage":{"input_tokens":250,"cached_input_tokens":140,"cache_write_input_tokens":0,"output_tokens":50,"reasoning_output_tokens":12}}`);

  test('a finished turn yields the thread id, the last agent message and the turn usage', () => {
    const state = initialCodexState();
    for (const e of success) applyCodexEvent(state, e);
    expect(state).toEqual({
      threadId: '01a2100d-e1cf-7872-b8b8-b19b91fbd98c',
      finalMessage: 'Wrote report.md',
      usage: { input: 250, cached: 140, output: 50, reasoning: 12 },
      turnsCompleted: 1,
      turnFailure: null,
      lastError: null,
      waitingForNetworkSince: null,
      sandboxRefusal: null,
      denials: [],
      events: 6,
      lastEventType: 'turn.completed',
    });
    expect(codexFailure(state, { exitCode: 0, signal: null, stderr: '' })).toBeNull();
  });

  test('a failed turn keeps its message; non-fatal error items do not count as failures', () => {
    const state = initialCodexState();
    for (const e of lines(`
{"type":"turn.started"}
{"type":"error","message":"Reconnecting... 2/5 (stream disconnected)"}
{"type":"turn.failed","error":{"message":"Quota exceeded. Check your plan and billing details."}}`))
      applyCodexEvent(state, e);
    expect([state.turnFailure, state.lastError]).toEqual([
      'Quota exceeded. Check your plan and billing details.',
      'Reconnecting... 2/5 (stream disconnected)',
    ]);
  });

  // The real messages of the pinned CLI are classified in cli-messages.test.ts; these are the rules' edges.
  test.for([
    ['You’ve hit your usage limit. … or try again at 7:16 PM.', 'usage_limit', 'usage_limit'],
    ['unexpected status 403 Forbidden: {"error":"no access"}', 'needs_human', 'invalid_credentials'],
    ['unexpected status 502 Bad Gateway: upstream', 'transient', 'server_error'],
    ['stream disconnected before completion: idle timeout waiting for SSE', 'transient', 'stream_cut'],
    ['something new went wrong', 'agent', 'turn_failed'],
  ] as const)('%s → %s %s', ([message, kind, code]) => {
    expect(classifyCodexMessage(message)).toMatchObject({ kind, code, message });
  });

  test('a sandbox that cannot start commands (bwrap) is a needs_human failure; a read-only write is a denial', () => {
    const state = initialCodexState();
    for (const e of lines(`
{"type":"thread.started","thread_id":"t"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc pwd","aggregated_output":"bwrap: No permissions to create a new namespace, likely because the kernel does not allow non-privileged user namespaces.\\n","exit_code":1,"status":"failed"}}
{"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"/bin/bash -lc 'touch x'","aggregated_output":"touch: cannot touch 'x': Read-only file system\\n","exit_code":1,"status":"failed"}}
{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"I could not run anything."}}
{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":1}}`))
      applyCodexEvent(state, e);
    expect(state.denials).toEqual(["exec_command: /bin/bash -lc 'touch x': Read-only file system"]);
    expect(codexFailure(state, { exitCode: 0, signal: null, stderr: '' })).toMatchObject({
      kind: 'needs_human',
      code: 'sandbox_refused',
      message:
        'the sandbox could not start a command: /bin/bash -lc pwd: bwrap: No permissions to create a new namespace, likely because the kernel does not allow non-privileged user namespaces.',
    });
  });

  test('network waits are dated from the first waiting line and reset by any other event', () => {
    const state = initialCodexState();
    const waiting = {
      type: 'error',
      message: 'Reconnecting... waiting for network (Connection failed: error sending request)',
    };
    applyCodexEvent(state, waiting, 1000);
    applyCodexEvent(state, waiting, 5000);
    expect(state.waitingForNetworkSince).toBe(1000);
    applyCodexEvent(state, { type: 'turn.started' }, 6000);
    expect(state.waitingForNetworkSince).toBeNull();
  });

  const now = new Date('2026-11-24T18:00:00.000Z');
  test.for([
    ['… or try again at Nov 25th, 2026 12:14 AM.', '2026-11-25T00:14:00.000Z'],
    ['… or try again at Jan 1st, 2027 11:05 PM.', '2027-01-01T23:05:00.000Z'],
    ['… or try again at 7:16 PM.', '2026-11-24T19:16:00.000Z'],
    // A time earlier than now on the same clock face is tomorrow's.
    ['… or try again at 9:30 AM.', '2026-11-25T09:30:00.000Z'],
    ['You’ve hit your usage limit.', null],
  ] as const)('reset in %s', ([message, iso]) => {
    expect(parseCodexResetTime(message, now)).toBe(iso);
  });

  test.for([
    [
      'a first run: everything reported is this process',
      { input: 100, cached: 40, output: 20, reasoning: 5 },
      { input: 0, cached: 0, output: 0, reasoning: 0 },
      { input: 100, cached: 40, output: 20, reasoning: 5 },
    ],
    [
      'a resume reporting the thread total',
      { input: 400, cached: 240, output: 80, reasoning: 19 },
      { input: 250, cached: 140, output: 50, reasoning: 12 },
      { input: 150, cached: 100, output: 30, reasoning: 7 },
    ],
    [
      'a resume reporting only itself',
      { input: 150, cached: 100, output: 30, reasoning: 7 },
      { input: 250, cached: 140, output: 50, reasoning: 12 },
      { input: 150, cached: 100, output: 30, reasoning: 7 },
    ],
  ] as const)('tokensSince: %s', ([, reported, baseline, mine]) => {
    expect(tokensSince(reported, baseline)).toEqual(mine);
  });

  test('codexArgs: flags, then overrides and effort, then -o, `resume <id>` and the prompt after --', () => {
    expect(
      codexArgs({
        root: '/r',
        model: 'm',
        effort: 'high',
        config: { model_provider: '"fake"' },
        lastMessageFile: '/r/last.txt',
        prompt: 'review the code',
        resumeThreadId: 't-1',
      }),
    ).toEqual([
      'exec',
      '--json',
      '--skip-git-repo-check',
      '-s',
      'workspace-write',
      '-C',
      '/r',
      '-m',
      'm',
      '--disable',
      'plugins',
      '--disable',
      'remote_plugin',
      '--disable',
      'apps',
      '-c',
      'analytics.enabled=false',
      '-c',
      'model_provider="fake"',
      '-c',
      'model_reasoning_effort="high"',
      '-o',
      '/r/last.txt',
      'resume',
      't-1',
      '--',
      'review the code',
    ]);
    expect(codexArgs({ root: '/r', model: 'm', sandbox: 'read-only', lastMessageFile: '/l', prompt: 'p' })).toEqual([
      'exec',
      '--json',
      '--skip-git-repo-check',
      '-s',
      'read-only',
      '-C',
      '/r',
      '-m',
      'm',
      '--disable',
      'plugins',
      '--disable',
      'remote_plugin',
      '--disable',
      'apps',
      '-c',
      'analytics.enabled=false',
      '-o',
      '/l',
      '--',
      'p',
    ]);
  });

  test.for([
    [{}, { variable: 'CODEX_API_KEY', provider: null, usesLogin: true }],
    [{ model_provider: '"openai"' }, { variable: 'CODEX_API_KEY', provider: null, usesLogin: true }],
    [
      { model_provider: '"fake"', 'model_providers.fake.env_key': '"FAKE_KEY"' },
      { variable: 'FAKE_KEY', provider: 'fake', usesLogin: false },
    ],
    [
      { model_provider: 'azure', 'model_providers.azure.env_key': 'AZURE_OPENAI_API_KEY' },
      { variable: 'AZURE_OPENAI_API_KEY', provider: 'azure', usesLogin: false },
    ],
    [
      { model_provider: '"proxy"', 'model_providers.proxy.requires_openai_auth': 'true' },
      { variable: 'CODEX_API_KEY', provider: 'proxy', usesLogin: true },
    ],
    [{ model_provider: '"oss"' }, { variable: null, provider: 'oss', usesLogin: false }],
  ] as const)('codexKeyVariable(%o)', ([config, expected]) => {
    expect(codexKeyVariable(config)).toEqual(expected);
  });
});

describe('claude events', () => {
  test('init, a rejected rate_limit_event and an api-error result read as a usage limit with its reset', () => {
    const state = initialClaudeState();
    for (const e of lines(`
{"type":"system","subtype":"init","session_id":"s-1","skills":["loop-station","debug"],"model":"claude-sonnet-4-5"}
{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1800000030,"rateLimitType":"five_hour"},"session_id":"s-1"}
{"type":"assistant","message":{"model":"<synthetic>","content":[{"type":"text","text":"You've hit your 5-hour limit · resets Jan 15, 2027, 8am (UTC)"}]},"error":"rate_limit","session_id":"s-1"}
{"type":"result","subtype":"success","is_error":true,"result":"You've hit your 5-hour limit · resets Jan 15, 2027, 8am (UTC)","api_error_status":429,"total_cost_usd":0,"num_turns":1,"usage":{"input_tokens":0,"output_tokens":0},"session_id":"s-1"}`))
      applyClaudeEvent(state, e);
    expect(state).toMatchObject({
      sessionId: 's-1',
      skills: ['loop-station', 'debug'],
      rejectedResetsAt: 1_800_000_030,
      assistantError: 'rate_limit',
      lastEventType: 'result',
      events: 4,
    });
    expect(claudeFailure(state, { exitCode: 1, signal: null, stderr: '' })).toMatchObject({
      kind: 'usage_limit',
      code: 'usage_limit',
    });
  });

  // The real messages of the pinned CLI are classified in cli-messages.test.ts; these are the rules' edges.
  test.for([
    [
      '{"type":"result","subtype":"success","is_error":true,"result":"API Error: 502 Bad Gateway","api_error_status":502}',
      'transient',
      'server_error',
    ],
    [
      '{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":2,"errors":["tool crashed"]}',
      'agent',
      'error_during_execution',
    ],
  ] as const)('%s → %s %s', ([line, kind, code]) => {
    const state = initialClaudeState();
    applyClaudeEvent(state, JSON.parse(line) as Record<string, unknown>);
    expect(claudeFailure(state, { exitCode: 1, signal: null, stderr: '' })).toMatchObject({ kind, code });
  });

  test('no result line: refused arguments are needs_human, anything else the agent failing', () => {
    const state = initialClaudeState();
    expect(
      claudeFailure(state, { exitCode: 1, signal: null, stderr: "error: unknown option '--bogus'\n" }),
    ).toMatchObject({ kind: 'needs_human', code: 'cli_arguments', message: "error: unknown option '--bogus'" });
    expect(claudeFailure(state, { exitCode: 1, signal: null, stderr: 'Segmentation fault\n' })).toMatchObject({
      kind: 'agent',
      code: 'no_result',
    });
  });

  test('claudeArgs: stream-json needs --verbose; the variadic --allowedTools ends before the role note; -- guards the prompt', () => {
    expect(
      claudeArgs({
        model: 'sonnet',
        allowedTools: ['Bash(npm test)', 'Write'],
        maxTurns: 30,
        bare: true,
        roleNote: 'note',
        prompt: '-p is a flag',
        resumeSessionId: 's-1',
      }),
    ).toEqual([
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      'sonnet',
      '--permission-mode',
      'acceptEdits',
      '--allowedTools',
      'Bash(npm test)',
      'Write',
      '--max-turns',
      '30',
      '--bare',
      '--resume',
      's-1',
      '--append-system-prompt',
      'note',
      '--',
      '-p is a flag',
    ]);
  });
});

describe('followJsonl', () => {
  test('hands over whole lines only, across polls, a UTF-8 character cut in two, and a last line without newline', async () => {
    const file = join(await testdir(), 'events.jsonl');
    writeFileSync(file, '');
    const seen: unknown[] = [];
    const follower = followJsonl(file, (e) => seen.push(e));
    const bytes = Buffer.from('{"a":"’"}\nnot json\n{"b":2}');
    appendFileSync(file, bytes.subarray(0, 7)); // cuts the three-byte ’ after its first byte
    expect(follower.poll()).toBe(0);
    appendFileSync(file, bytes.subarray(7));
    expect(follower.poll()).toBe(1);
    expect(follower.close()).toBe(1);
    expect(seen).toEqual([{ a: '’' }, { b: 2 }]);
  });
});
