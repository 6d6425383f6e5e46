import { describe, expect, test } from 'vitest';
import {
  evidenceErrorNote,
  evidenceFailure,
  lastJsonObject,
  parseLenientJson,
  toEvidenceResult,
} from './evidence-output.js';

/** The evidence result of a run that exited 0 and printed `stdout`. */
const evidence = (stdout: string, metric = 'accuracy', protect: string[] = []) =>
  toEvidenceResult({ command: 'python3 eval.py', metric, protect, exitCode: 0, stdout, failure: null });

/** What eval.py printed, as Python's json.dumps prints it (allow_nan on, the default). */
describe('what researchers evidence scripts print', () => {
  test('NaN as the metric is read, and named as NaN, not as no JSON', () => {
    const r = evidence('epoch 1\n{"accuracy": NaN, "loss": 0.3}\n');
    expect([r.value, r.error, r.metrics]).toEqual([null, 'metric accuracy is NaN', { loss: 0.3 }]);
  });

  test('Infinity in a secondary metric does not lose the primary one', () => {
    const r = evidence('{"accuracy": 0.85, "loss": Infinity, "gap": -Infinity}');
    expect([r.value, r.error, r.metrics]).toEqual([0.85, null, { accuracy: 0.85 }]);
    expect(evidence('{"accuracy": -Infinity}').error).toBe('metric accuracy is -Infinity');
  });

  test('a number printed as a string is read; any other string is named as it is', () => {
    const r = evidence('{"accuracy": "0.85", "run": "abc"}');
    expect([r.value, r.error, r.metrics]).toEqual([0.85, null, { accuracy: 0.85 }]);
    expect(evidence('{"accuracy": "85%"}').error).toBe('metric accuracy is a string "85%", not a number');
    expect(evidence('{"accuracy": null}').error).toBe('metric accuracy is null');
    expect(evidence('{"accuracy": [0.8]}').error).toBe('metric accuracy is an array, not a number');
    expect(evidence('{"accuracy": true}').error).toBe('metric accuracy is true, not a number');
  });

  test('nested objects are read by dotted names, for the metric and for protection', () => {
    const r = evidence('{"val": {"acc": 0.9, "loss": 0.2}, "test": {"acc": 0.8}}', 'val.acc', ['test.acc >= 0.5']);
    expect([r.value, r.error, r.protection]).toEqual([
      0.9,
      null,
      [{ criterion: 'test.acc >= 0.5', value: 0.8, pass: true }],
    ]);
    expect(r.metrics).toEqual({ 'val.acc': 0.9, 'val.loss': 0.2, 'test.acc': 0.8 });
    expect(evidence('{"val": {"acc": 0.9}}', 'val').error).toBe(
      'metric val is an object, not a number: name one of its fields (val.acc)',
    );
  });

  test('a literal key with a dot still works, and comes before a nested one of the same name', () => {
    expect(evidence('{"val.acc": 1}', 'val.acc').value).toBe(1);
    expect(evidence('{"val": {"acc": 2}, "val.acc": 1}', 'val.acc').value).toBe(1);
  });

  test('a pretty-printed object after log lines is found, its inner objects not taken for it', () => {
    const dumped = JSON.stringify({ runs: [{ accuracy: 0.1 }], accuracy: 0.85 }, null, 2);
    expect(evidence(`loading data\n{epoch 1} done\n${dumped}\nbye\n`).value).toBe(0.85);
    expect(evidence(dumped).value).toBe(0.85);
    // The last object wins, one line or several.
    expect(evidence(`${dumped}\n{"accuracy": 0.5}`).value).toBe(0.5);
  });

  test('a log line opening a brace it never closes does not hide the object after it', () => {
    expect(evidence('{ starting training\n{\n  "accuracy": 0.7\n}\n').value).toBe(0.7);
  });

  test('every failure names what it saw', () => {
    expect(evidence('{"acc": 0.85, "loss": 0.3}').error).toBe(
      'metric accuracy is missing from the evidence output (got: keys acc, loss)',
    );
    expect(evidence('{"val": {"acc": 1}}').error).toBe(
      'metric accuracy is missing from the evidence output (got: keys val.acc)',
    );
    expect(evidence('{}').error).toBe('metric accuracy is missing from the evidence output (got: an empty object)');
    expect(evidence("step 9\n{'accuracy': 0.85}\n").error).toBe(
      `evidence command printed no JSON object on stdout (its last line: "{'accuracy': 0.85}")`,
    );
    expect(evidence('').error).toBe('evidence command printed no JSON object on stdout (stdout was empty)');
  });

  test('NaN inside a string is text, not a number', () => {
    expect(parseLenientJson('{"a": "NaN and Infinity", "b": NaN}')).toEqual({ a: 'NaN and Infinity', b: NaN });
    expect(lastJsonObject('{"a": "}{", "b": 1}')).toEqual({ a: '}{', b: 1 });
  });
});

describe('evidenceFailure: what the baseline check and the circuit breaker go by', () => {
  test('an error, no value, or a protection criterion that could not be measured', () => {
    expect(evidenceFailure(evidence('{"accuracy": 0.9, "lat": 3}', 'accuracy', ['lat <= 5']))).toBeNull();
    // A protection measured and failing is a result.
    expect(evidenceFailure(evidence('{"accuracy": 0.9, "lat": 9}', 'accuracy', ['lat <= 5']))).toBeNull();
    expect(evidenceFailure(evidence('{"accuracy": NaN}'))).toBe('metric accuracy is NaN');
    expect(evidenceFailure(evidence('{"accuracy": 0.9, "lat": NaN}', 'accuracy', ['lat <= 5']))).toBe(
      'protection lat <= 5 could not be measured: no number lat in the evidence output (got: metrics accuracy)',
    );
    expect(evidenceFailure(null)).toBeNull();
  });
});

describe('evidenceErrorNote: an evidence failure at a glance (watch, list)', () => {
  test('one line, clipped: what the command printed cannot spread over the view', () => {
    const error = `metric score is missing (got:\n${'x'.repeat(200)})`;
    const note = evidenceErrorNote({ session: 7, error }, 40);
    expect([note.startsWith('evidence failed at 007: metric score is missing (got: xx'), note.length]).toEqual([
      true,
      'evidence failed at 007: '.length + 40,
    ]);
    expect(note.endsWith('…')).toBe(true);
    expect(evidenceErrorNote({ session: 0, error: 'metric score is NaN' })).toBe(
      'evidence failed at 000: metric score is NaN',
    );
  });
});
