#!/usr/bin/env node
// Runs the denoise-psnr loop WITHOUT the engine, to prove the example works on its own:
// setup, baseline, then per session the scripted executor, the evaluator, the scripted reviewer and a
// small stand-in of the built-in supervisor (docs/protocol.md#built-in-supervisor), writing the files the agents read.
//
//   node examples/denoise-psnr/dry-run.mjs <root> [--sessions 12]
//
// It is not the engine: no flags, no Temporal, no durable waits; decision.md holds only the block
// and short sections. Use `loop-station submit examples/denoise-psnr/loop.yaml` for the real thing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { criterionHolds, pad, parseCriterion, parseHeader, sha256, writeText } from './agents/loop-files.mjs';
import { setupRoot } from './setup.mjs';

/** The parts of loop.yaml this driver needs (a unit test keeps them equal to loop.yaml). */
export const FRAME = {
  evidenceCommand: 'node eval.mjs',
  metric: 'psnr',
  minDelta: 0.05,
  plateau: 2,
  protect: ['ssim >= 0.45'],
  workspace: ['denoiser/**'],
  protected: ['eval.mjs', 'lib/**', 'data/**', 'tools/**'],
  executor: { name: 'scripted_executor', command: 'node tools/executor.mjs' },
  reviewer: { name: 'scripted_reviewer', command: 'node tools/reviewer.mjs' },
};
const RESTORING = new Set(['retire', 'return_to_best', 'pivot_axis']);
const EXECUTOR = FRAME.executor.name.toUpperCase();
const REVIEWER = FRAME.reviewer.name.toUpperCase();

function listFiles(root, dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  if (fs.statSync(abs).isFile()) return [dir];
  return fs
    .readdirSync(abs)
    .flatMap((name) => listFiles(root, `${dir}/${name}`))
    .sort();
}

/** A code variant as docs/protocol.md#code-variants lays it out: files/ plus manifest.json with source hashes. */
function snapshot(root, session, slug, withProtected) {
  const dir = `loop_station/code_variants/session_${pad(session)}/${slug}`;
  const protectedFiles = withProtected ? ['eval.mjs', 'lib', 'tools', 'data'].flatMap((d) => listFiles(root, d)) : [];
  const entries = [
    ...listFiles(root, 'denoiser').map((p) => [p, 'copied']),
    ...protectedFiles.map((p) => [p, 'untouched']),
  ];
  const sourceFiles = entries.map(([p, mode]) => {
    const bytes = fs.readFileSync(path.join(root, p));
    fs.mkdirSync(path.dirname(path.join(root, dir, 'files', p)), { recursive: true });
    fs.writeFileSync(path.join(root, dir, 'files', p), bytes);
    return {
      path: p,
      sha256_before_copy: sha256(bytes),
      size_bytes: bytes.length,
      protection_mode: mode,
      backup_path_if_direct_edit: null,
    };
  });
  const manifest = {
    session,
    change_slug: slug,
    reason: slug === 'baseline' ? 'frame-lock baseline' : 'executor candidate',
    source_files: sourceFiles,
    variant_files: sourceFiles.map((f) => ({ path: `files/${f.path}`, source_path: f.path })),
    entrypoint: 'eval.mjs',
    config: 'denoiser/pipeline.json',
    command: FRAME.evidenceCommand,
    maintained_source_modified: false,
    restore_manifest: null,
    created_at: new Date().toISOString(),
  };
  writeText(root, `${dir}/manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
}

function evaluate(root, evidenceDir) {
  const started = performance.now();
  const r = spawnSync('sh', ['-c', FRAME.evidenceCommand], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LOOP_STATION_EVIDENCE_DIR: evidenceDir ?? '' },
  });
  const seconds = (performance.now() - started) / 1000;
  let metrics = null;
  try {
    metrics = JSON.parse(r.stdout.trim().split('\n').at(-1));
  } catch {
    metrics = null;
  }
  const value = metrics?.[FRAME.metric] ?? null;
  const protection = FRAME.protect.map(parseCriterion).map((c) => ({
    criterion: c.text,
    value: metrics?.[c.metric] ?? null,
    pass: criterionHolds(c, metrics?.[c.metric]),
  }));
  return {
    seconds,
    record: {
      command: FRAME.evidenceCommand,
      exit_code: r.status,
      metrics,
      metric: FRAME.metric,
      value,
      protection,
      error: r.status === 0 ? null : r.stderr.trim(),
    },
  };
}

function runAgent(root, { role, agent, command, session, output, prompt }) {
  const sessionDir = `loop_station/sessions/session_${pad(session)}`;
  const promptFile = `${sessionDir}/runs/${agent}-${role}.prompt.md`;
  writeText(root, promptFile, prompt);
  const env = {
    ...process.env,
    LOOP_STATION_ROLE: role,
    LOOP_STATION_AGENT: agent,
    LOOP_STATION_SESSION: pad(session),
    LOOP_STATION_ROOT: root,
    LOOP_STATION_SESSION_DIR: sessionDir,
    LOOP_STATION_PROMPT_FILE: promptFile,
    LOOP_STATION_OUTPUT: output,
  };
  const started = performance.now();
  const r = spawnSync('sh', ['-c', command], { cwd: root, input: prompt, encoding: 'utf8', env });
  writeText(root, `${sessionDir}/runs/${agent}-${role}.log`, `${r.stdout}${r.stderr}`);
  const done = r.status === 0 && fs.existsSync(path.join(root, output));
  return { done, seconds: (performance.now() - started) / 1000, status: r.status, stderr: r.stderr.trim() };
}

/** The built-in supervisor's rules 1–6 and the plateau pivot (docs/protocol.md#built-in-supervisor), reduced to this example. */
function decide({ session, maxSessions, executorDone, metrics, review, best, plateau }) {
  const d = FRAME.minDelta;
  const v = metrics.value;
  let cls;
  let reason;
  if (!executorDone) [cls, reason] = ['return_to_best', 'executor did not finish'];
  else if (metrics.protection.some((p) => !p.pass)) [cls, reason] = ['retire', 'a protection criterion failed'];
  else if (typeof v !== 'number') [cls, reason] = ['needs_more_evidence', 'no metric value'];
  else if (v > best.value + d) {
    const objection =
      review.verdict === 'unsupported' || review.recommendation === 'retire' || review.verdict === 'blocked';
    [cls, reason] = objection
      ? ['needs_more_evidence', `beats the best but the review is ${review.verdict}/${review.recommendation}`]
      : ['promote', `${v} beats ${best.value} by more than ${d}`];
  } else if (Math.abs(v - best.value) <= d) [cls, reason] = ['keep', `|${v} − ${best.value}| ≤ ${d}`];
  else [cls, reason] = ['return_to_best', `${v} is below the best ${best.value}`];
  if (cls !== 'promote' && plateau + 1 >= FRAME.plateau)
    [cls, reason] = ['pivot_axis', `${reason}; plateau ${plateau + 1} of ${FRAME.plateau} on this axis`];
  if (session >= maxSessions)
    return { cls: 'stop', reason: `budget_sessions (rules 2–6 gave ${cls}: ${reason})`, wouldBe: cls };
  return { cls, reason, wouldBe: cls };
}

function decisionMd({ session, decision, value, best, axis, protection, review }) {
  const block = [
    ['class', decision.cls],
    ['session', pad(session)],
    ['metric', FRAME.metric],
    ['value', value ?? 'null'],
    ['best_session', pad(best.session)],
    ['best_value', best.value],
    ['axis', axis],
    ['next_axis', 'null'],
    ['protection', protection],
    ['reviews', `${REVIEWER}:${review.verdict}`],
    ['approval', 'none'],
    ['on_approve', 'null'],
    ['on_deny', 'null'],
    ['stop_reason', decision.cls === 'stop' ? 'budget_sessions' : 'null'],
    ['source', 'builtin'],
    ['reason', decision.reason],
    ['next', decision.cls === 'stop' ? '-' : EXECUTOR],
  ]
    .map(([k, val]) => `${k}: ${val}`)
    .join('\n');
  return `\`\`\`loop-station-decision\n${block}\n\`\`\`\n\n# Decision — session ${pad(session)} (dry-run stand-in)\n\n## Integrated Judgment\n- ${decision.reason}; review ${review.verdict}/${review.recommendation}.\n\n## Best Known Candidate\n- session ${pad(best.session)}: ${best.value}\n\n## Next Action\n- ${decision.cls === 'stop' ? 'the loop ends' : RESTORING.has(decision.cls) ? 'restore the best, then start the next session' : 'start the next session from the current workspace'}.\n`;
}

function writeBrief(root, retired, lastDecision) {
  writeText(
    root,
    'loop_station/summaries/EXECUTOR_BRIEF.md',
    `# Executor Brief (dry-run stand-in)

## Read This Before Planning
- Last decision: ${lastDecision.cls}.

## What The Executor Should Try Next
- Retired axes: ${retired.length > 0 ? retired.join(', ') : 'none'}.
`,
  );
}

function agentPrompt(role, session, last) {
  return `# ${role} prompt (dry-run)\nSession ${pad(session)} of the denoise-psnr loop. Last decision: ${last ?? 'none'}.\nRaise validation PSNR of denoiser/pipeline.json without touching eval.mjs, lib/ or data/.\n`;
}

export function dryRun(rootArg, sessions, log = (line) => process.stdout.write(`${line}\n`)) {
  const root = path.resolve(rootArg);
  if (fs.existsSync(path.join(root, 'loop_station'))) {
    throw new Error(`${root}/loop_station already exists\n  fix: remove it (rm -r ${root}) or pass another root`);
  }
  setupRoot(root);
  writeText(
    root,
    'loop_station/contract.json',
    `${JSON.stringify({ goal: { protection_criteria: FRAME.protect }, budget: { max_sessions: sessions }, decision_policy: { supervisor: 'builtin', plateau_sessions: FRAME.plateau, min_delta: FRAME.minDelta } }, null, 2)}\n`,
  );
  snapshot(root, 0, 'baseline', true);
  const base = evaluate(root, null);
  let best = { session: 0, value: base.record.value };
  const csvHeader = 'session,timestamp,axis,class,metric,value,protection,best_session,best_value,reviews,variant\n';
  writeText(
    root,
    'loop_station/leaderboard.csv',
    `${csvHeader}000,${new Date().toISOString()},,baseline,psnr,${best.value},pass,000,${best.value},,baseline\n`,
  );
  log(
    `baseline (session 000): validation PSNR ${best.value} dB, SSIM ${base.record.metrics.ssim}; noisy input ${base.record.metrics.noisy_psnr} dB`,
  );
  log('');
  log(
    '| session | axis | train (exec) | validation | Δ best | review | decision | best | exec s | eval s | review s | total s |',
  );
  log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const plateaus = {};
  const retired = [];
  let last = null;
  const rows = [];
  for (let n = 1; n <= sessions; n++) {
    const t0 = performance.now();
    const sessionDir = `loop_station/sessions/session_${pad(n)}`;
    if (last && RESTORING.has(last.cls)) {
      const from =
        best.session === 0
          ? 'loop_station/code_variants/session_000/baseline/files/denoiser/pipeline.json'
          : `loop_station/code_variants/session_${pad(best.session)}/candidate/files/denoiser/pipeline.json`;
      fs.copyFileSync(path.join(root, from), path.join(root, 'denoiser/pipeline.json'));
    }
    const exec = runAgent(root, {
      role: 'EXECUTOR',
      agent: EXECUTOR,
      command: FRAME.executor.command,
      session: n,
      output: `${sessionDir}/executor_report.md`,
      prompt: agentPrompt('EXECUTOR', n, last?.cls),
    });
    const report = exec.done ? fs.readFileSync(path.join(root, sessionDir, 'executor_report.md'), 'utf8') : '';
    const axis = parseHeader(report).axis ?? 'default';
    const train = /Written pipeline: [^\n]*?train PSNR ([\d.]+) dB/.exec(report)?.[1] ?? '—';
    snapshot(root, n, 'candidate', false);
    const ev = evaluate(root, `${sessionDir}/evidence`);
    writeText(root, `${sessionDir}/metrics.json`, `${JSON.stringify(ev.record, null, 2)}\n`);
    const reviewFile = `loop_station/reviews/session_${pad(n)}/${REVIEWER}-SESSION${pad(n)}-REVIEWER-DONE.md`;
    const rev = runAgent(root, {
      role: 'REVIEWER',
      agent: REVIEWER,
      command: FRAME.reviewer.command,
      session: n,
      output: reviewFile,
      prompt: agentPrompt('REVIEWER', n, last?.cls),
    });
    const reviewHeader = rev.done ? parseHeader(fs.readFileSync(path.join(root, reviewFile), 'utf8')) : {};
    const review = {
      verdict: rev.done ? reviewHeader.verdict : 'blocked',
      recommendation: reviewHeader.recommendation ?? 'none',
    };
    const decision = decide({
      session: n,
      maxSessions: sessions,
      executorDone: exec.done,
      metrics: ev.record,
      review,
      best,
      plateau: plateaus[axis] ?? 0,
    });
    const prevBest = best.value;
    if (decision.cls === 'promote') {
      best = { session: n, value: ev.record.value };
      plateaus[axis] = 0;
    } else if (decision.cls !== 'stop') plateaus[axis] = (plateaus[axis] ?? 0) + 1;
    if (decision.cls === 'pivot_axis' && axis !== 'default' && !retired.includes(axis)) retired.push(axis);
    const protection = ev.record.protection.every((p) => p.pass) ? 'pass' : 'fail';
    writeText(
      root,
      `${sessionDir}/decision.md`,
      decisionMd({ session: n, decision, value: ev.record.value, best, axis, protection, review }),
    );
    fs.appendFileSync(
      path.join(root, 'loop_station/leaderboard.csv'),
      `${pad(n)},${new Date().toISOString()},${axis},${decision.cls},psnr,${ev.record.value},${protection},${pad(best.session)},${best.value},${REVIEWER}:${review.verdict},candidate\n`,
    );
    writeBrief(root, retired, decision);
    last = decision;
    const total = (performance.now() - t0) / 1000;
    const row = {
      session: n,
      axis,
      train,
      value: ev.record.value,
      delta: ev.record.value - prevBest,
      review,
      decision,
      best: best.value,
      exec: exec.seconds,
      evalS: ev.seconds,
      rev: rev.seconds,
      total,
    };
    rows.push(row);
    const cls = decision.cls === 'stop' ? `stop (rules: ${decision.wouldBe})` : decision.cls;
    log(
      `| ${pad(n)} | ${axis} | ${train} | ${row.value} | ${row.delta >= 0 ? '+' : ''}${row.delta.toFixed(3)} | ${review.verdict}/${review.recommendation} | ${cls} | ${best.value} | ${exec.seconds.toFixed(1)} | ${ev.seconds.toFixed(1)} | ${rev.seconds.toFixed(1)} | ${total.toFixed(1)} |`,
    );
    if (!exec.done) log(`  executor BLOCKED (exit ${exec.status}): ${exec.stderr.split('\n')[0]}`);
    if (!rev.done) log(`  reviewer BLOCKED (exit ${rev.status}): ${rev.stderr.split('\n')[0]}`);
  }
  return { root, baseline: base.record, best, rows, noisy: base.record.metrics.noisy_psnr };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--sessions');
  const sessions = i >= 0 ? Number(args.splice(i, 2)[1]) : 12;
  if (args.length !== 1 || !Number.isInteger(sessions) || sessions < 1) {
    process.stderr.write('usage: node examples/denoise-psnr/dry-run.mjs <root> [--sessions 12]\n');
    process.exitCode = 2;
  } else {
    try {
      const started = performance.now();
      const r = dryRun(args[0], sessions);
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `\nbest: session ${pad(r.best.session)} at ${r.best.value} dB (baseline ${r.baseline.value} dB, noisy input ${r.noisy} dB: ${(r.best.value - r.noisy).toFixed(2)} dB over the noisy input)\n`,
      );
      process.stdout.write(
        `${sessions} sessions in ${seconds.toFixed(1)} s (${(seconds / sessions).toFixed(1)} s per session); files under ${r.root}/loop_station\n`,
      );
    } catch (err) {
      process.stderr.write(`dry-run: ${err.message}\n`);
      process.exitCode = 1;
    }
  }
}
