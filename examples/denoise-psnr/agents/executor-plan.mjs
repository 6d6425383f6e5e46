// How the scripted executor picks this session's axis from its own memory, the last decision and the
// executor brief. Its memory lives in loop_station/sessions/session_NNN/executor_state.json, outside
// the workspace, so restores of denoiser/ never roll it back.
import { AXES, SCHEDULE } from './axes.mjs';
import { pad, readJson, readText, section } from './loop-files.mjs';

const EMPTY_STATE = { rounds: {}, exhausted: [], retired: [], rejected: [], redirect: null, history: [] };

/** The newest executor_state.json of an earlier session (a BLOCKED session may have none). */
export function readPreviousState(root, session) {
  for (let n = session - 1; n >= 1; n--) {
    const state = readJson(root, `loop_station/sessions/session_${pad(n)}/executor_state.json`);
    if (state) return state;
  }
  return null;
}

const axesIn = (line) => SCHEDULE.filter((a) => new RegExp(`\\b${a}\\b`).test(line));

/**
 * Reads "What The Executor Should Try Next" of EXECUTOR_BRIEF.md: axes on a line that mentions a
 * "retired axis" are retired; the first axis on a line that says redirect, try or note is a redirect
 * (the engine writes `redirect from a human: …` and `do not return to retired axis …`).
 */
export function readBrief(root) {
  const text = readText(root, 'loop_station/summaries/EXECUTOR_BRIEF.md');
  const body = text === null ? null : section(text, 'What The Executor Should Try Next');
  const retired = new Set();
  let redirect = null;
  for (const line of (body ?? '').split('\n')) {
    if (/retired ax/i.test(line)) axesIn(line).forEach((a) => retired.add(a));
    else if (!redirect && /\b(redirect|try|note)\b/i.test(line)) redirect = axesIn(line)[0] ?? null;
  }
  return { found: text !== null, retired, redirect: redirect && !retired.has(redirect) ? redirect : null };
}

/** Variants of the axis for this pipeline, minus pipelines proposed before and not promoted. */
export function freshVariants(axis, current, round, rejected) {
  const seen = new Set(rejected);
  return AXES[axis].variants(current, round).filter((v) => !seen.has(JSON.stringify(v.pipeline.steps)));
}

function nextInSchedule(after, skip, usable) {
  const start = SCHEDULE.indexOf(after);
  for (let k = 1; k <= SCHEDULE.length; k++) {
    const axis = SCHEDULE[(start + k) % SCHEDULE.length];
    if (!skip.has(axis) && usable(axis)) return axis;
  }
  return null;
}

/** This session's axis and round, why, and the state carried forward. */
export function chooseAxis({ session, previous, decision, brief, current }) {
  const prev = previous ?? { ...EMPTY_STATE, axis: null };
  const retired = new Set([...prev.retired, ...brief.retired]);
  if (decision?.class === 'pivot_axis' && decision.axis) retired.add(decision.axis);
  const rejected = [...prev.rejected];
  if (prev.written && decision && decision.class !== 'promote') rejected.push(prev.written);
  let exhausted = new Set(prev.exhausted.filter((a) => !retired.has(a)));
  const usable = (axis) => freshVariants(axis, current, prev.rounds[axis] ?? 0, rejected).length > 0;
  const reasons = [];
  // A note stays in the brief until the engine drops it: follow each one once.
  const fromBrief = brief.redirect !== prev.redirect ? brief.redirect : null;
  const wanted = [decision?.next_axis, fromBrief].find((a) => a && AXES[a] && !retired.has(a) && usable(a));
  let axis;
  if (wanted) {
    axis = wanted;
    reasons.push(
      `redirected to ${axis} (${decision?.next_axis === axis ? 'decision next_axis' : 'EXECUTOR_BRIEF.md'})`,
    );
  } else if (prev.axis && !retired.has(prev.axis) && !exhausted.has(prev.axis) && usable(prev.axis)) {
    axis = prev.axis;
    reasons.push(`staying on ${axis}: last decision ${decision?.class ?? 'none'}, axis not retired`);
  } else {
    const why = retired.has(prev.axis)
      ? 'retired'
      : exhausted.has(prev.axis)
        ? 'exhausted (no train gain last time)'
        : 'no untried variant left for this pipeline';
    if (prev.axis) reasons.push(`leaving ${prev.axis}: ${why}`);
    axis = nextInSchedule(prev.axis ?? SCHEDULE[SCHEDULE.length - 1], new Set([...retired, ...exhausted]), usable);
    if (axis === null) {
      // Every axis was tried: start over on the ones not retired, with finer steps (rounds carry on).
      exhausted = new Set();
      axis = nextInSchedule(prev.axis ?? SCHEDULE[SCHEDULE.length - 1], retired, usable) ?? SCHEDULE[0];
      reasons.push('every axis exhausted or retired: starting the schedule over');
    }
    reasons.push(`next axis in the schedule: ${axis}`);
  }
  const round = prev.rounds[axis] ?? 0;
  const nextAxis = nextInSchedule(axis, new Set([...retired, ...exhausted, axis]), usable) ?? axis;
  const state = {
    rounds: { ...prev.rounds, [axis]: round + 1 },
    exhausted: [...exhausted],
    retired: [...retired],
    rejected,
    redirect: brief.redirect,
    history: [
      ...prev.history,
      ...(prev.session
        ? [
            {
              session: prev.session,
              axis: prev.axis,
              decision: prev.session === session - 1 ? (decision?.class ?? null) : null,
            },
          ]
        : []),
    ],
  };
  return { axis, round, nextAxis, reasons, state };
}
