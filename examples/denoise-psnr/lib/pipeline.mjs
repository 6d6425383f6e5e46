// The denoiser: `denoiser/pipeline.json` is an ordered list of filter steps, applied in turn.
import fs from 'node:fs';
import { FILTERS } from './filters.mjs';
import { createImage } from './image.mjs';

function checkParam(name, spec, value, path) {
  if (value === undefined)
    return spec.optional ? [] : [`${path}.${name}: is required (${spec.kind} ${spec.min}–${spec.max})`];
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= spec.min &&
    value <= spec.max &&
    (spec.kind !== 'integer' || Number.isInteger(value));
  return ok
    ? []
    : [
        `${path}.${name}: must be ${spec.kind === 'integer' ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max} (got ${JSON.stringify(value)})`,
      ];
}

/** Problems with a parsed pipeline, as `path: message` lines; empty when it is valid. */
export function pipelineProblems(pipeline) {
  if (typeof pipeline !== 'object' || pipeline === null || !Array.isArray(pipeline.steps))
    return ['steps: must be an array of filter steps'];
  return pipeline.steps.flatMap((step, i) => {
    const path = `steps[${i}]`;
    const filter = FILTERS[step?.op];
    if (!filter)
      return [`${path}.op: must be one of ${Object.keys(FILTERS).join(', ')} (got ${JSON.stringify(step?.op)})`];
    const known = new Set(['op', 'blend', ...Object.keys(filter.params)]);
    return [
      ...Object.entries(filter.params).flatMap(([name, spec]) => checkParam(name, spec, step[name], path)),
      ...checkParam('blend', { kind: 'number', min: 0, max: 1, optional: true }, step.blend, path),
      ...Object.keys(step)
        .filter((k) => !known.has(k))
        .map((k) => `${path}.${k}: unknown parameter for ${step.op} (known: ${[...known].join(', ')})`),
    ];
  });
}

/** Reads and validates a pipeline file; throws one error listing every problem and the fix. */
export function readPipeline(file) {
  let pipeline;
  try {
    pipeline = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new Error(`${file}: cannot read the pipeline: ${cause.message}`, { cause });
  }
  const problems = pipelineProblems(pipeline);
  if (problems.length > 0) {
    throw new Error(
      `${problems.map((p) => `${file}: ${p}`).join('\n')}\n  fix: edit ${file} (ops and parameters: lib/filters.mjs FILTERS)`,
    );
  }
  return pipeline;
}

/** Applies each step to the previous step's output; `blend` mixes the step's input back in. */
export function runPipeline(pipeline, image) {
  return pipeline.steps.reduce((input, step) => {
    const out = FILTERS[step.op].run(input, step);
    const blend = step.blend ?? 0;
    if (blend === 0) return out;
    return createImage(
      out.width,
      out.height,
      out.data.map((v, i) => (1 - blend) * v + blend * input.data[i]),
    );
  }, image);
}

/** A short readable form: `nlm(patch=1,search=5,h=30) → gaussian(sigma=0.5)`. */
export function describePipeline(pipeline) {
  if (pipeline.steps.length === 0) return 'identity';
  return pipeline.steps
    .map(
      ({ op, ...params }) =>
        `${op}(${Object.entries(params)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')})`,
    )
    .join(' → ');
}
