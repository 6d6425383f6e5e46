import { readFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { hasToolResult, messageStream } from './fixtures/fake-models/anthropic-messages.js';
import {
  assistantText,
  execCommand,
  fakeProviderConfig,
  hasToolOutput,
  responseStream,
} from './fixtures/fake-models/openai-responses.js';
import { type RecordedRequest, type Scenario, startFakeModelServer } from './fixtures/fake-models/server.js';
import { useAgentHome } from './helpers/agent-home.js';
import { ensureAgentCli } from './helpers/agent-clis.js';
import { FIXTURE_AGENTS, toyRoot, toySpec } from './helpers/loops.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

/**
 * The evidence pack reaches the agents that judge a session: real pinned CLIs (Codex executes and
 * decides, Claude reviews) against scripted model servers that read the pack with their shell tools
 * and assert on what comes back in the next request: the executor's change as a diff, the metric
 * history, and the image pairs as readable paths.
 */

const CODEX_KEY = 'FAKE_CODEX_KEY';
let worker: TestWorker;
let codexBin: string;
let claudeBin: string;
const servers: { close(): Promise<void> }[] = [];
useAgentHome();

beforeAll(async () => {
  [codexBin, claudeBin] = (await Promise.all([ensureAgentCli('codex'), ensureAgentCli('claude')])).map(
    (b) => b.path,
  ) as [string, string];
  process.env[CODEX_KEY] = 'sk-fake-codex';
  process.env.ANTHROPIC_API_KEY = 'sk-ant-fake';
  worker = await startTestWorker({ allowRoots: [await realpath(tmpdir())] });
}, 600_000);
afterAll(async () => {
  await worker?.stop();
  for (const s of servers) await s.close();
});

/** Every string in a request body, decoded: what the model was sent, tool results included. */
function sentText(req: RecordedRequest): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(req.body);
  return out.join('\n');
}

const count = (text: string, needle: string) => text.split(needle).length - 1;
const sessionOf = (req: RecordedRequest, role: string) =>
  new RegExp(`the ${role} (?:of|deciding) session (\\d{3})`).exec(sentText(req))?.[1] ?? '000';
const pack = (n: string) => `loop_station/sessions/session_${n}/evidence_pack`;
const envFor = (n: string, agent: string, output: string) =>
  `LOOP_STATION_SESSION=${n} LOOP_STATION_SESSION_DIR=loop_station/sessions/session_${n} LOOP_STATION_AGENT=${agent} LOOP_STATION_OUTPUT=${output}`;
const usage = { input: 10, cached: 0, output: 5, reasoning: 0 };
const claudeUsage = { input: 10, cacheRead: 0, cacheWrite: 0, output: 5 };

/** Codex: the executor runs the toy executor; the supervisor first reads the pack, then runs the judge. */
const codexScenario: Scenario = (req) => {
  if (req.method !== 'POST' || !req.url.startsWith('/v1/responses')) return undefined;
  const text = sentText(req);
  if (text.includes('the SUPERVISOR deciding session')) {
    const n = sessionOf(req, 'SUPERVISOR');
    const step = count(req.rawBody, '"function_call_output"');
    if (step === 0)
      return responseStream(
        'r1',
        [
          execCommand(
            'c1',
            `cat ${pack(n)}/README.md ${pack(n)}/metrics.md ${pack(n)}/diff_vs_best.patch ${pack(n)}/images.md`,
          ),
        ],
        usage,
      );
    if (step === 1)
      return responseStream(
        'r2',
        [
          execCommand(
            'c2',
            `${envFor(n, 'CODEX', `loop_station/sessions/session_${n}/decision.md`)} ${process.execPath} ${join(FIXTURE_AGENTS, 'judge.mjs')}`,
          ),
        ],
        usage,
      );
    return responseStream('r3', [assistantText('m3', 'Decided.')], usage);
  }
  const n = sessionOf(req, 'EXECUTOR');
  if (!hasToolOutput(req))
    return responseStream(
      'e1',
      [
        execCommand(
          'e1',
          `${envFor(n, 'CODEX', `loop_station/sessions/session_${n}/executor_report.md`)} ${process.execPath} ${join(FIXTURE_AGENTS, 'toy-executor.mjs')}`,
        ),
      ],
      usage,
    );
  return responseStream('e2', [assistantText('m2', 'Session done.')], usage);
};

/** Claude reviews: reads the pack with Bash, then writes its review with the toy reviewer. */
const claudeScenario: Scenario = (req) => {
  if (req.method !== 'POST' || !req.url.startsWith('/v1/messages')) return undefined;
  const n = sessionOf(req, 'REVIEWER');
  const step = count(req.rawBody, '"tool_result"');
  if (!hasToolResult(req))
    return messageStream(
      'a1',
      'claude-fake',
      [
        {
          type: 'tool_use',
          id: 'toolu_1',
          name: 'Bash',
          input: { command: `cat ${pack(n)}/diff_vs_best.patch ${pack(n)}/metrics.md ${pack(n)}/images.md` },
        },
      ],
      'tool_use',
      claudeUsage,
    );
  if (step === 1) {
    const out = `loop_station/reviews/session_${n}/CLAUDE-SESSION${n}-REVIEWER-DONE.md`;
    return messageStream(
      'a2',
      'claude-fake',
      [
        {
          type: 'tool_use',
          id: 'toolu_2',
          name: 'Bash',
          input: {
            command: `${envFor(n, 'CLAUDE', out)} ${process.execPath} ${join(FIXTURE_AGENTS, 'toy-reviewer.mjs')}`,
          },
        },
      ],
      'tool_use',
      claudeUsage,
    );
  }
  return messageStream('a3', 'claude-fake', [{ type: 'text', text: 'Review written.' }], 'end_turn', claudeUsage);
};

/** A protected evaluator that also draws: out/pic.png in the root (an artifact) and plot.png in its evidence folder. */
const PIC_EVAL = `import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
const x = existsSync('work/x.txt') ? Number(readFileSync('work/x.txt', 'utf8')) : 0;
const png = (n) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from([n])]);
mkdirSync('out', { recursive: true });
writeFileSync('out/pic.png', png(x));
writeFileSync(process.env.LOOP_STATION_EVIDENCE_DIR + '/plot.png', png(100 + x));
console.log(JSON.stringify({ score: x, guard: 1 }));
`;

describe('the evidence pack with real agent CLIs', () => {
  test('the diff, the metric history and the image pairs reach the Claude reviewer and the Codex supervisor; the next executor is pointed at the pack', async () => {
    const codex = await startFakeModelServer(codexScenario);
    const claude = await startFakeModelServer(claudeScenario);
    servers.push(codex, claude);
    process.env.ANTHROPIC_BASE_URL = claude.origin;
    const root = await toyRoot({ 'pic-eval.mjs': PIC_EVAL, 'judge-plan.json': JSON.stringify({ 1: 'promote' }) });
    const codexAgent = {
      agent: 'codex' as const,
      command: codexBin,
      model: 'fake-model',
      env: [CODEX_KEY],
      config: fakeProviderConfig(codex.origin, CODEX_KEY),
    };
    const base = toySpec(root, worker.taskQueue);
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 2, perRun: '2m' },
      evidence: {
        command: `${JSON.stringify(process.execPath)} pic-eval.mjs`,
        metric: 'score',
        direction: 'maximize',
        protect: ['guard >= 1'],
        artifacts: ['out/*.png'],
      },
      protected: [...base.protected, 'pic-eval.mjs', 'judge-plan.json'],
      executor: codexAgent,
      supervisor: codexAgent,
      reviewers: [
        {
          agent: 'claude',
          command: claudeBin,
          model: 'claude-fake',
          env: ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'],
          allowedTools: ['Bash'],
          required: true,
        },
      ],
    });
    const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId: `loop-pack-${process.pid}-${Date.now()}`,
      taskQueue: worker.taskQueue,
      args: [{ config }],
    });
    const result = (await handle.result()) as LoopResult;
    // Session 1: the Codex supervisor's promote; session 2: the budget stop (no supervisor is asked).
    expect(result.history.map((h) => [h.class, h.value])).toEqual([
      ['promote', 1],
      ['stop', 2],
    ]);

    const reviewer = claude.requests.filter(
      (r) => r.url.startsWith('/v1/messages') && sessionOf(r, 'REVIEWER') === '001',
    );
    // The prompt names the pack and both images of the pair (Claude opens them with its Read tool).
    const baselinePic = 'loop_station/code_variants/session_000/baseline/evidence/artifacts/out/pic.png';
    const pic1 = 'loop_station/sessions/session_001/evidence/artifacts/out/pic.png';
    expect(sentText(reviewer[0]!)).toContain(`start with ${pack('001')}/README.md`);
    expect(sentText(reviewer[0]!)).toContain(`else open them with your file-reading tool): ${pic1}, ${baselinePic}`);
    // What the reviewer's `cat` of the pack sent back: the executor's change, the history, the pair.
    const read = sentText(reviewer[1]!);
    expect(read).toContain(
      [
        '--- work/x.txt\tloop_station/code_variants/session_000/baseline',
        '+++ work/x.txt\tloop_station/code_variants/session_001/candidate',
        '@@ -1,1 +1,1 @@',
        '-0',
        '+1',
      ].join('\n'),
    );
    expect(read).toContain('| 000 | - | baseline | 0 | pass | 0 (000) | - |');
    expect(read).toContain('| **score** | 1 | 0 | 1 |');
    expect(read).toContain(`| artifacts/out/pic.png | \`${pic1}\` | \`${baselinePic}\` |`);
    expect(read).toContain(
      '| plot.png | `loop_station/sessions/session_001/evidence/plot.png` | `loop_station/code_variants/session_000/baseline/evidence/plot.png` |',
    );

    const supervisor = codex.requests.filter(
      (r) => r.url.startsWith('/v1/responses') && sentText(r).includes('the SUPERVISOR deciding session 001'),
    );
    expect(sentText(supervisor[0]!)).toContain(
      "- Built-in rules' suggestion (a mechanical reading of the numbers, not the answer): class ",
    );
    expect(sentText(supervisor[0]!)).toContain(`${pack('001')}/images.md`);
    const decided = sentText(supervisor[1]!);
    expect(decided).toContain('- score = 1 this session; 0 at the baseline (session 000) (maximize)');
    expect(decided).toContain('+1');
    expect(decided).toContain(`\`${pic1}\``);

    // Session 2: the pack pairs with the new best (session 1), and its executor was pointed at session 1's pack.
    const reviewer2 = claude.requests.filter(
      (r) => r.url.startsWith('/v1/messages') && sessionOf(r, 'REVIEWER') === '002',
    );
    expect(sentText(reviewer2[1]!)).toContain(
      '| artifacts/out/pic.png | `loop_station/sessions/session_002/evidence/artifacts/out/pic.png` | `loop_station/sessions/session_001/evidence/artifacts/out/pic.png` |',
    );
    const executor2 = codex.requests.find((r) => sentText(r).includes('the EXECUTOR of session 002'));
    expect(sentText(executor2!)).toContain(`- ${pack('001')}/README.md: its evidence pack`);
    expect(sentText(executor2!)).toMatch(/- reviewer CLAUDE \(supported, recommends \w+\) asked: /);
    // The runs were given the pack's images (RunAgentInput.images), this session's then the best's, pair by pair.
    const history = await worker.client.workflow.getHandle(`${handle.workflowId}/session-001`).fetchHistory();
    const runs = (history.events ?? []).flatMap((e) => {
      const s = e.activityTaskScheduledEventAttributes;
      if (s?.activityType?.name !== 'runAgent') return [];
      const input = JSON.parse(Buffer.from(s.input!.payloads![0]!.data!).toString('utf8')) as {
        role: string;
        images?: string[];
      };
      return [[input.role, input.images ?? null]];
    });
    const given = [
      pic1,
      baselinePic,
      'loop_station/sessions/session_001/evidence/plot.png',
      'loop_station/code_variants/session_000/baseline/evidence/plot.png',
    ];
    expect(runs).toEqual([
      ['EXECUTOR', null],
      ['REVIEWER', given],
      ['SUPERVISOR', given],
    ]);
    expect(
      await readFile(join(root, 'loop_station/flags/session_001/CODEX-SESSION001-SUPERVISOR-READY.flag'), 'utf8'),
    ).toContain(`${pack('001')}/README.md`);
    expect(await readFile(join(root, 'loop_station/sessions/session_001/reviewer_requests.md'), 'utf8')).toContain(
      `${pack('001')}/README.md`,
    );
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});
