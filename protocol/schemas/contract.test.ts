import { describe, expect, test } from 'vitest';
import { buildContract, CONTRACT_KEYS, readContract, renderContract } from './contract.js';
import { toLoopConfig } from './loop-config.js';
import { LoopSpecSchema } from './loop-spec.js';

const spec = LoopSpecSchema.parse({
  name: 'denoise-psnr',
  root: './experiment',
  goal: 'Raise validation PSNR',
  budget: { sessions: 50, wallClock: '10h', perRun: '45m', tokens: 20_000_000, costUsd: 60 },
  evidence: {
    command: 'python eval.py --json',
    metric: 'psnr',
    protect: ['ssim >= 0.80'],
    success: ['psnr >= 29'],
    plateau: 3,
    minDelta: 0.05,
  },
  workspace: ['denoise/**'],
  protected: ['eval.mjs'],
  executor: { agent: 'codex', model: 'gpt-5-codex' },
  reviewers: [
    { name: 'claude', agent: 'claude' },
    { name: 'outside', agent: 'external', required: false },
  ],
  askBefore: ['pivot_axis'],
});
const config = toLoopConfig(spec, '/loops/denoise');
const contract = buildContract({
  config,
  workflowId: 'loop-denoise-psnr',
  lockedAt: '2026-11-24T10:00:00.000Z',
  currentSession: 3,
  amendments: [],
});

describe('buildContract (§4)', () => {
  test('writes every key in §4 order', () => {
    expect(Object.keys(JSON.parse(renderContract(contract)))).toEqual([
      'protocol_version',
      'frame_locked',
      'locked_at',
      'loop_name',
      'workflow_id',
      'goal',
      'budget',
      'evidence',
      'work_unit_scope',
      'collaboration_mode',
      'user_intervention_points',
      'loop_output_root',
      'review_flag_format',
      'review_wait_policy',
      'current_session',
      'summary_policy',
      'compaction_policy',
      'decision_policy',
      'workspace',
      'protected',
      'stale',
      'amendments',
    ]);
    expect(CONTRACT_KEYS).toEqual(Object.keys(JSON.parse(renderContract(contract))));
  });

  test('maps the spec onto the engine values', () => {
    const {
      goal,
      budget,
      evidence,
      collaboration_mode,
      review_wait_policy,
      decision_policy,
      user_intervention_points,
    } = contract;
    expect({
      goal,
      budget,
      evidence,
      collaboration_mode,
      review_wait_policy,
      decision_policy,
      user_intervention_points,
    }).toEqual({
      goal: {
        summary: 'Raise validation PSNR',
        success_criteria: ['psnr >= 29'],
        protection_criteria: ['ssim >= 0.80'],
      },
      budget: {
        max_sessions: 50,
        wall_time_limit: '10h',
        per_run_limit: '45m',
        token_limit: 20_000_000,
        cost_limit: 60,
        resource_pool: [],
      },
      evidence: {
        summary: 'maximize psnr via python eval.py --json',
        command: 'python eval.py --json',
        metric: 'psnr',
        direction: 'maximize',
        artifacts: [],
      },
      collaboration_mode: {
        mode: 'external_review_flag',
        required_reviewers: ['CLAUDE'],
        optional_reviewers: ['OUTSIDE'],
        reviewer_identity_required: true,
        reviewer_identity_fields: ['agent_name', 'model_or_version', 'instruction_profile', 'role'],
      },
      review_wait_policy: {
        required_done_count: 1,
        optional_done_count: 0,
        start_timeout_seconds: 300,
        done_timeout_seconds: 1800,
        heartbeat_timeout_seconds: 600,
        sequential_flag_gate: true,
        require_artifact_for_done: true,
        continuous_monitor: {
          enabled: true,
          poll_interval_seconds: 5,
          ready_signal_once_per_session: true,
          dedupe_by_loop_root_and_reviewer: true,
        },
        allow_skip_on_timeout: true,
      },
      decision_policy: { supervisor: 'builtin', plateau_sessions: 3, min_delta: 0.05 },
      user_intervention_points: {
        requires_user_approval: ['direct_maintained_source_edit', 'budget_increase', 'goal_change', 'scope_expansion'],
        ask_before: ['pivot_axis'],
      },
    });
  });

  test('no reviewers is supervisor_only; rendering is stable', () => {
    const alone = buildContract({
      config: { ...config, reviewers: [] },
      workflowId: 'w',
      lockedAt: 't',
      currentSession: 0,
      amendments: [],
    });
    expect(alone.collaboration_mode.mode).toBe('supervisor_only');
    expect(renderContract(contract)).toBe(renderContract(JSON.parse(renderContract(contract))));
  });
});

describe('readContract', () => {
  test('an engine contract reads clean', () => {
    const r = readContract(renderContract(contract));
    expect([r.findings, r.contract, r.view]).toEqual([
      [],
      contract,
      {
        protocolVersion: 'loop-station/1',
        currentSession: 3,
        loopOutputRoot: '/loops/denoise',
        requiredReviewers: ['CLAUDE'],
        optionalReviewers: ['OUTSIDE'],
        requiredDoneCount: 1,
        optionalDoneCount: 0,
        allowSkipOnTimeout: true,
        metric: 'psnr',
        direction: 'maximize',
        maxSessions: 50,
      },
    ]);
  });

  const f = (text: string) => readContract(text).findings.map((x) => `${x.severity} ${x.code}: ${x.message}`);

  test('engine contracts are strict', () => {
    const { stale: _stale, ...withoutStale } = contract;
    expect(f(JSON.stringify({ ...withoutStale, current_session: -1, surprise: true }))).toEqual([
      'error CONTRACT_INVALID: contract.json: current_session: -1 is not a session number',
      'error CONTRACT_INVALID: contract.json lacks stale',
      'error CONTRACT_INVALID: contract.json has unknown field surprise',
    ]);
  });

  test('original contracts need only the required few; the rest defaults or warns', () => {
    const original = {
      frame_locked: true,
      goal: 'raise psnr',
      budget: { max_sessions: 10 },
      loop_output_root: '/x',
      review_flag_format: 'f',
      review_wait_policy: {},
      current_session: '007',
      notes: 'x',
    };
    const r = readContract(JSON.stringify(original));
    expect(r.findings.map((x) => `${x.severity} ${x.code}: ${x.message}`)).toEqual([
      'warning CONTRACT_EVIDENCE_MISSING: contract.json has no evidence: metric and direction are unknown',
      'warning CONTRACT_INVALID: contract.json: goal: Invalid input: expected object, received string',
      'warning CONTRACT_INVALID: contract.json has unknown field notes',
    ]);
    expect(r.view).toMatchObject({
      protocolVersion: null,
      currentSession: 7,
      requiredDoneCount: 1,
      requiredReviewers: [],
      metric: null,
      maxSessions: 10,
    });
    const { goal: _goal, current_session: _cs, ...missing } = original;
    expect(f(JSON.stringify(missing))).toEqual([
      'error CONTRACT_INVALID: contract.json lacks goal',
      'error CONTRACT_INVALID: contract.json lacks current_session',
      'warning CONTRACT_EVIDENCE_MISSING: contract.json has no evidence: metric and direction are unknown',
      'warning CONTRACT_INVALID: contract.json has unknown field notes',
    ]);
  });

  test('text that is no JSON object is one error', () => {
    expect(f('[1]')).toEqual(['error CONTRACT_INVALID: contract.json is not a JSON object']);
    expect(readContract('{').view).toBe(null);
  });
});
