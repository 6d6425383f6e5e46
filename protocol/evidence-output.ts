import { criterionHolds, parseCriterion } from './criteria.js';
import { sessionLabel } from './layout.js';
import { stripTerminalEscapes } from './terminal-text.js';
import type { EvidenceResult, Metrics } from './schemas/state.js';

/**
 * Reading what an evidence command printed (docs/protocol.md#metrics-json), shared by the engine's
 * evidence runs and `doctor --spec`. Researchers' scripts print log lines, then one JSON object,
 * often from Python's json.dumps: pretty-printed, nested, with NaN or Infinity. What cannot be read
 * is named as it was seen, never as "nothing".
 */

/** Python's json.dumps writes these bare; a string standing in for them while JSON.parse reads the rest. */
const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};
const STAND_IN = '\u0000loop-station:';

/** JSON.parse that also takes bare NaN, Infinity and -Infinity (outside strings), as Python prints them. */
export function parseLenientJson(text: string): unknown {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === 'N' || c === 'I' || c === '-') {
      const word = /^(?:NaN|-?Infinity)(?![\w$])/.exec(text.slice(i, i + 10))?.[0];
      if (word === undefined) continue;
      // Written escaped: JSON.parse refuses a raw control character in a string.
      out += `${text.slice(from, i)}"\\u0000loop-station:${word}"`;
      i += word.length - 1;
      from = i + 1;
    }
  }
  return JSON.parse(out + text.slice(from), (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(STAND_IN) ? NON_FINITE[value.slice(STAND_IN.length)] : value,
  );
}

/** The index of the `}` closing the object that opens at `start`, or -1 when it does not close before `end`. */
function closingBrace(text: string, start: number, end: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Objects that run to the end of the output unclosed: past this many, an object is looked for within its line. */
const UNCLOSED_SCANS = 32;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The last JSON object on stdout that starts a line, on one line or several (json.dumps with
 * indent=2 after log lines); objects nested in it are not candidates of their own.
 */
export function lastJsonObject(stdout: string): Record<string, unknown> | undefined {
  const candidates: string[] = [];
  let unclosed = 0;
  for (let lineStart = 0; lineStart < stdout.length;) {
    const newline = stdout.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? stdout.length : newline;
    const open = lineStart + (/^[ \t\r]*/.exec(stdout.slice(lineStart, lineEnd))?.[0].length ?? 0);
    let next = lineEnd + 1;
    if (stdout[open] === '{') {
      const close = closingBrace(stdout, open, unclosed < UNCLOSED_SCANS ? stdout.length : lineEnd);
      if (close === -1) unclosed++;
      else {
        candidates.push(stdout.slice(open, close + 1));
        // Lines inside the object are its own; the next candidate starts after it.
        const after = stdout.indexOf('\n', close);
        next = after === -1 ? stdout.length : after + 1;
      }
    }
    lineStart = next;
  }
  for (const text of candidates.reverse()) {
    try {
      const value = parseLenientJson(text);
      if (isObject(value)) return value;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Nesting below this is not flattened. */
const MAX_DEPTH = 8;

/**
 * Every field of the object by its dotted name (`{"val": {"acc": 1}}` → `val`, `val.acc`), level by
 * level, so a literal key with a dot (`{"val.acc": 1}`) is found first.
 */
export function flattenFields(object: Record<string, unknown>): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  let level = Object.entries(object);
  for (let depth = 0; level.length && depth < MAX_DEPTH; depth++) {
    const next: [string, unknown][] = [];
    for (const [key, value] of level) {
      if (!fields.has(key)) fields.set(key, value);
      if (isObject(value)) for (const [k, v] of Object.entries(value)) next.push([`${key}.${k}`, v]);
    }
    level = next;
  }
  return fields;
}

/** A string that is a number as JSON writes one (`"0.85"`, `"1e-3"`), nothing around it but spaces. */
const NUMBER_TEXT = /^\s*-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?\s*$/;

const shown = (text: string, max = 60): string => JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);

/** Names of fields, for a message: the leaves, at most a dozen. */
function keyList(fields: ReadonlyMap<string, unknown>): string {
  const leaves = [...fields].filter(([, v]) => !isObject(v) || Object.keys(v).length === 0).map(([k]) => k);
  if (!leaves.length) return 'an empty object';
  const listed = leaves.slice(0, 12).join(', ');
  return `keys ${listed}${leaves.length > 12 ? `, … (${leaves.length - 12} more)` : ''}`;
}

/**
 * One named field as a number: a finite number, or a string that is one (f-strings and str() print
 * numbers quoted, and such a string means one number only); else what it is instead.
 */
export function readField(
  fields: ReadonlyMap<string, unknown>,
  name: string,
): { value: number; problem: null } | { value: null; problem: string } {
  const missing = (why: string) => ({ value: null, problem: why }) as const;
  if (!fields.has(name)) return missing(`is missing from the evidence output (got: ${keyList(fields)})`);
  const v = fields.get(name);
  if (typeof v === 'number') return Number.isFinite(v) ? { value: v, problem: null } : missing(`is ${v}`);
  if (typeof v === 'string')
    return NUMBER_TEXT.test(v) ? { value: Number(v), problem: null } : missing(`is a string ${shown(v)}, not a number`);
  if (v === null) return missing('is null');
  if (Array.isArray(v)) return missing('is an array, not a number');
  if (isObject(v)) {
    const keys = Object.keys(v);
    return missing(
      keys.length
        ? `is an object, not a number: name one of its fields (${keys
            .slice(0, 6)
            .map((k) => `${name}.${k}`)
            .join(', ')})`
        : 'is an empty object',
    );
  }
  return missing(`is ${String(v)}, not a number`);
}

/** What stdout showed when it held no JSON object: its last line, or that it was empty. */
function seenOnStdout(stdout: string): string {
  const last = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
  return last === undefined ? 'stdout was empty' : `its last line: ${shown(last, 100)}`;
}

/** The evidence command's output read: the fields of its JSON object, or why there is none. */
export interface EvidenceOutput {
  /** Every field by its dotted name; undefined when stdout held no JSON object. */
  fields: Map<string, unknown> | undefined;
  /** The finite numbers among the fields. */
  metrics: Metrics;
  /** Why stdout has no object, naming what it saw (null when it has one). */
  problem: string | null;
}

export function readEvidenceOutput(stdout: string): EvidenceOutput {
  const object = lastJsonObject(stdout);
  if (!object)
    return {
      fields: undefined,
      metrics: {},
      problem: `evidence command printed no JSON object on stdout (${seenOnStdout(stdout)})`,
    };
  const fields = flattenFields(object);
  const metrics: Metrics = {};
  for (const [k, v] of fields) if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
  return { fields, metrics, problem: null };
}

/** Turns the command's outcome into metrics.json: a bad run is a recorded failure, never a crash. */
export function toEvidenceResult(input: {
  command: string;
  metric: string;
  protect: readonly string[];
  exitCode: number | null;
  stdout: string;
  failure: string | null;
}): EvidenceResult {
  const read = readEvidenceOutput(input.stdout);
  const metrics = { ...read.metrics };
  /** A named metric's number; one printed as a string is kept among the metrics too. */
  const named = (name: string) => {
    const field = read.fields ? readField(read.fields, name) : { value: null, problem: read.problem };
    if (field.value !== null) metrics[name] = field.value;
    return field;
  };
  let error = input.failure;
  if (!error && input.exitCode !== 0) error = `evidence command exited with code ${input.exitCode ?? 'none'}`;
  if (!error && read.problem) error = read.problem;
  const primary = named(input.metric);
  if (!error && primary.value === null) error = `metric ${input.metric} ${primary.problem}`;
  const protection = input.protect.map((text) => {
    const criterion = parseCriterion(text);
    const v = criterion ? (named(criterion.metric).value ?? undefined) : undefined;
    return { criterion: text, value: v ?? null, pass: criterion ? criterionHolds(criterion, v) : false };
  });
  return {
    command: input.command,
    exit_code: input.exitCode,
    metrics,
    metric: input.metric,
    value: primary.value,
    protection,
    error,
  };
}

/**
 * Why an evidence result gives the loop nothing to go on, or null when it does: its error, no value
 * of the metric, or a protection criterion it could not measure. A protection measured and failing
 * is a result, not a failure. `doctor --spec`, the baseline check and the circuit breaker go by it.
 */
export function evidenceFailure(
  evidence: Pick<EvidenceResult, 'error' | 'value' | 'metric' | 'metrics' | 'protection'> | null,
): string | null {
  if (evidence === null) return null;
  if (evidence.error !== null) return evidence.error;
  if (evidence.value === null) return `metric ${evidence.metric} has no value`;
  const unmeasured = evidence.protection.find((p) => p.value === null);
  if (!unmeasured) return null;
  const name = parseCriterion(unmeasured.criterion)?.metric;
  const got = Object.keys(evidence.metrics);
  return `protection ${unmeasured.criterion} could not be measured: ${
    name === undefined ? 'it is no criterion' : `no number ${name} in the evidence output`
  } (got: ${got.length ? `metrics ${got.slice(0, 12).join(', ')}${got.length > 12 ? ', …' : ''}` : 'no metrics'})`;
}

/**
 * An evidence failure as a glance shows it (`watch`'s line, `list`'s NOTE): one line, clipped, for
 * the command's own output may be in it. `status` and FINAL_SUMMARY.md give the whole error.
 */
export function evidenceErrorNote(failed: { session: number; error: string }, maxChars = 80): string {
  // Clipped as it will read: an escape sequence in it (stripped on the way out) counts for nothing.
  const flat = stripTerminalEscapes(failed.error).replace(/\s+/g, ' ').trim();
  const error = flat.length <= maxChars ? flat : `${flat.slice(0, maxChars - 1)}…`;
  return `evidence failed at ${sessionLabel(failed.session)}: ${error}`;
}
