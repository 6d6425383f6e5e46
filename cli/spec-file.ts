import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import { type z } from 'zod';
import { type LoopConfig, toLoopConfig } from '../protocol/schemas/loop-config.js';
import { type LoopSpec, LoopSpecSchema } from '../protocol/schemas/loop-spec.js';
import { closestName, didYouMean } from '../protocol/suggest.js';
import { SECRET_FIX, secretLine, secretsInSpec } from '../protocol/secret-shapes.js';
import { ExitCode, ExitError } from './exit-codes.js';
import { knownFields } from './spec-fields.js';

const MAX_SPEC_BYTES = 1024 * 1024;

const shown = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));

/** What zod's type names are called in a spec's words. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list (- item lines, or [a, b])',
  int: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  string: 'text',
};

/** The value meant, for the near-misses people write: `"20"` or `$20` for a number, `yes` for true. */
function typeHint(expected: string, input: unknown): string {
  if (typeof input !== 'string') return '';
  const text = input.trim();
  if (expected === 'number' || expected === 'int') {
    const plain = text.replace(/^\$/, '').replace(/[_,](?=\d{3}\b)/g, '');
    const suffix = /^(\d+(?:\.\d+)?)\s*([kKmM])$/.exec(plain);
    const n = suffix ? Number(suffix[1]) * (/k/i.test(suffix[2]!) ? 1e3 : 1e6) : Number(plain);
    return plain !== '' && Number.isFinite(n) ? `; did you mean ${n} (a number, without quotes)?` : '';
  }
  if (expected === 'boolean') {
    const word = text.toLowerCase();
    if (['yes', 'y', 'on', 'true'].includes(word)) return '; did you mean true?';
    if (['no', 'n', 'off', 'false'].includes(word)) return '; did you mean false?';
  }
  return '';
}

/**
 * Zod's wording, made to name the rule and what was given
 * (docs/architecture.md#cli: `budget.sessions: must be a positive integer (got -3)`).
 */
function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType | undefined): string {
  const got = 'input' in issue ? ` (got ${shown(issue.input)})` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const input =
        'input' in issue && issue.input && typeof issue.input === 'object'
          ? (issue.input as Record<string, unknown>)
          : {};
      const free = schema ? knownFields(schema, issue.path, input).filter((k) => !(k in input)) : [];
      const near = issue.keys.flatMap((k) => {
        const name = closestName(k, free);
        return name ? [issue.keys.length > 1 ? `${name} for ${k}` : name] : [];
      });
      const many = issue.keys.length > 1;
      const suggestion = near.length ? `; did you mean ${near.join(', ')}?` : '';
      const fields = `unknown field${many ? 's' : ''} ${issue.keys.join(', ')}`;
      return `${fields}: remove or rename ${many ? 'them' : 'it'}${suggestion}`;
    }
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return (
        `must be ${TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`}${got}` + typeHint(issue.expected, issue.input)
      );
    case 'too_small':
      if (issue.origin === 'string') return `must not be empty${got}`;
      if (issue.origin === 'array')
        return `needs at least ${issue.minimum} entr${Number(issue.minimum) === 1 ? 'y' : 'ies'}`;
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}${got}`;
    case 'too_big':
      const bound = `${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
      return `must be ${bound}${issue.origin === 'string' ? ' characters' : got}`;
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      return `must be one of ${values.join(', ')}${got}${didYouMean(issue.input, values)}`;
    }
    case 'invalid_union': {
      if ('note' in issue && issue.note === 'No matching discriminator' && issue.discriminator) {
        const tag = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
        const options = ('options' in issue ? (issue.options ?? []) : []).map((o) => String(o));
        return `must be one of ${options.join(', ')} (got ${shown(tag)})${didYouMean(tag, options)}`;
      }
      // Each form the value could take, from each branch's first complaint.
      const literals = issue.errors.flatMap((b) =>
        b[0]?.code === 'invalid_value' ? b[0].values.map((v) => String(v)) : [],
      );
      const forms = issue.errors.map((b) =>
        b[0]?.code === 'invalid_value'
          ? b[0].values.map((v) => String(v)).join(' or ')
          : b[0]?.code === 'invalid_type'
            ? b[0].expected === 'object'
              ? 'a mapping'
              : `a ${b[0].expected}`
            : null,
      );
      return forms.every((f) => f !== null)
        ? `must be ${forms.join(' or ')}${got}${didYouMean(issue.input, literals)}`
        : `matches none of the allowed forms${got}`;
    }
    default:
      return `${issue.message}${issue.code === 'custom' ? '' : got}`;
  }
}

/**
 * A union's complaint replaced by the one branch that fits the value's shape (a mapping given for
 * `builtin | agent` speaks of the agent), so the message names the field that is wrong.
 */
function narrowUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const fitting = issue.errors.filter(
    (b) =>
      !(b.length === 1 && b[0]!.path.length === 0 && (b[0]!.code === 'invalid_type' || b[0]!.code === 'invalid_value')),
  );
  if (fitting.length !== 1) return [issue];
  return fitting[0]!.flatMap((i) => narrowUnion({ ...i, path: [...issue.path, ...i.path] }));
}

/**
 * One `file: path: message` line per zod issue
 * (docs/architecture.md#cli: config problems come back as `path: message`).
 */
export function formatIssues(file: string, error: z.ZodError, schema?: z.ZodType): string[] {
  return error.issues.flatMap(narrowUnion).map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    return `${file}: ${path}: ${describeIssue(issue, schema)}`;
  });
}

const JSON_LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Where JSON text first breaks and what was expected there. JSON.parse's wording and position
 * differ between Node versions, so the spec error is built from this instead.
 */
export function locateJsonError(text: string): { line: number; column: number; problem: string } | undefined {
  let i = 0;
  const fail = (expected: string): never => {
    throw Object.assign(new Error(expected), { jsonOffset: i });
  };
  const ws = () => {
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r') i++;
  };
  const eat = (c: string, expected: string) => {
    if (text[i] !== c) fail(expected);
    i++;
  };
  const string = (expected: string) => {
    eat('"', expected);
    for (let c = text[i]; c !== '"'; c = text[i]) {
      if (c === undefined) fail('a closing "');
      else if (c < ' ') fail('an escape such as \\t or \\n instead of a raw control character');
      else if (c !== '\\') i++;
      else if (text[i + 1] !== 'u') {
        i++;
        if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail('one of " \\ / b f n r t u after a backslash');
        i++;
      } else {
        i += 2;
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) fail('four hex digits after \\u');
        i += 4;
      }
    }
    i++;
  };
  const list = (close: string, item: () => void) => {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      item();
      ws();
      if (text[i] !== ',') return eat(close, `',' or '${close}'`);
      i++;
    }
  };
  const value = (): void => {
    ws();
    if (text[i] === '{')
      return list('}', () => (ws(), string('a double-quoted property name'), ws(), eat(':', "':'"), value()));
    if (text[i] === '[') return list(']', value);
    if (text[i] === '"') return string('a value');
    JSON_LITERAL.lastIndex = i;
    if (!JSON_LITERAL.test(text)) fail('a value');
    i = JSON_LITERAL.lastIndex;
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of the file');
    return undefined;
  } catch (error) {
    const offset = (error as { jsonOffset?: number }).jsonOffset;
    if (offset === undefined) return undefined; // nested too deep for this scanner: no position to give
    const before = text.slice(0, offset);
    const found = offset < text.length ? JSON.stringify(text[offset]) : 'the end of the file';
    return {
      line: before.split('\n').length,
      column: offset - before.lastIndexOf('\n'),
      problem: `expected ${(error as Error).message}, found ${found}`,
    };
  }
}

/** The spec error line for text JSON.parse refused. */
function jsonErrorLine(name: string, text: string): string {
  const where = locateJsonError(text);
  return where
    ? `${name}: not valid JSON at line ${where.line}, column ${where.column}: ${where.problem}`
    : `${name}: not valid JSON`;
}

export class SpecError extends ExitError {
  constructor(
    readonly file: string,
    readonly lines: string[],
    fix = `correct ${lines.length > 1 ? 'these fields' : 'this'} in ${file}, then run the command again`,
    /** A spec the schema refuses is a usage error; one the root refuses (a pattern that matches nothing) a failure. */
    code: ExitCode = ExitCode.usage,
  ) {
    super(code, `${lines.join('\n')}\n  fix: ${fix} (nothing was started)`);
  }
}

/** The key a YAML duplicate-key error points at (the parser's message does not name it). */
function keyAt(text: string, offset: number): string {
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^:\s]+))/.exec(text.slice(offset));
  return m ? (m[1] ?? m[2] ?? m[3]!) : '?';
}

/** One line for what the YAML parser refused: where, and in words for the mistakes people make. */
function yamlProblem(error: unknown, text: string): string {
  if (!(error instanceof YAML.YAMLParseError))
    return error instanceof Error ? error.message.split('\n')[0]! : String(error);
  const line = error.linePos?.[0].line;
  const at = line === undefined ? '' : ` (line ${line})`;
  switch (error.code) {
    case 'MULTIPLE_DOCS':
      return (
        `it holds more than one YAML document (a second ---${line === undefined ? '' : ` at line ${line}`}): ` +
        'a loop spec is one document'
      );
    case 'DUPLICATE_KEY':
      return `key ${keyAt(text, error.pos[0])} appears twice in one mapping${at}: keep one`;
    case 'TAB_AS_INDENT':
      return `a tab indents line ${line ?? '?'}: YAML indents with spaces`;
    default:
      return `${error.message.split('\n')[0]!.replace(/:$/, '')}`;
  }
}

/** A key that a JSON object holds twice, with its line, or undefined. */
function duplicateKey(text: string): string | undefined {
  const doc = YAML.parseDocument(text, { uniqueKeys: true });
  const error = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (!error) return undefined;
  const line = error.linePos?.[0].line ?? '?';
  return `key ${keyAt(text, error.pos[0])} appears twice in one object (line ${line}): keep one`;
}

/** The limits a spec gives as durations, by path; agents' limits are found under each agent. */
const LIMIT_PATHS = [
  ['budget', 'wallClock'],
  ['budget', 'perRun'],
  ['evidence', 'timeout'],
  ['reviewWait', 'startTimeout'],
  ['reviewWait', 'doneTimeout'],
  ['reviewWait', 'heartbeatTimeout'],
  ['askTimeout', 'after'],
] as const;
const AGENT_LIMITS = ['timeout', 'idleTimeout'] as const;

/**
 * A limit written as a bare number under a minute (`wallClock: 10`) is seconds, as docs/protocol.md
 * says, but people who write one mostly mean minutes or hours: said, with the rewrite for each.
 */
export function bareSecondsWarnings(raw: Record<string, unknown>): { field: string; message: string; fix: string }[] {
  const at = (value: unknown, key: string): unknown =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)[key]
      : undefined;
  const fields: [string, unknown][] = LIMIT_PATHS.map(([a, b]) => [`${a}.${b}`, at(at(raw, a), b)]);
  const reviewers = Array.isArray(raw.reviewers) ? raw.reviewers : [];
  const agents: [string, unknown][] = [
    ['executor', raw.executor],
    ['supervisor', raw.supervisor],
    ...reviewers.map((r, i): [string, unknown] => [`reviewers.${i}`, r]),
  ];
  for (const [name, agent] of agents) for (const key of AGENT_LIMITS) fields.push([`${name}.${key}`, at(agent, key)]);
  return fields.flatMap(([field, value]) => {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? +value : NaN;
    if (!(Number.isInteger(n) && n > 0 && n < 60)) return [];
    return [
      {
        field,
        message:
          `${field}: ${JSON.stringify(value)} is read as ${n} second${n === 1 ? '' : 's'} ` +
          '(a bare number is seconds)',
        fix: `write ${n}s to keep it, or ${n}m or ${n}h for minutes or hours`,
      },
    ];
  });
}

/** Reads and validates a loop spec (YAML or JSON); the root is resolved against the spec's folder. */
export async function loadLoopSpec(
  file: string,
  overrides: { root?: string } = {},
): Promise<{
  spec: LoopSpec;
  config: LoopConfig;
  file: string;
  /** What the spec says that it may not mean: `field: what`, then `fix: …`. */
  warnings: { field: string; message: string; fix: string }[];
}> {
  const name = basename(file);
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new SpecError(name, [`${file}: not a file`]);
    if (info.size > MAX_SPEC_BYTES)
      throw new SpecError(name, [`${file}: ${info.size} bytes; a loop spec is at most ${MAX_SPEC_BYTES} bytes`]);
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof SpecError) throw error;
    throw new ExitError(
      ExitCode.usage,
      `${file}: cannot read the loop spec (${(error as NodeJS.ErrnoException).code ?? String(error)})\n` +
        '  fix: give the path of a loop.yaml or loop.json; `loop-station init` writes one',
    );
  }
  // A byte-order mark (an editor on Windows) is no part of the spec, in JSON as in YAML.
  text = text.replace(/^\uFEFF/, '');
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    if (file.endsWith('.json')) throw new SpecError(name, [jsonErrorLine(name, text)]);
    throw new SpecError(name, [`${name}: not valid YAML: ${yamlProblem(error, text)}`]);
  }
  // JSON.parse keeps the last of two equal keys without a word: a loop told to minimize would maximize.
  if (file.endsWith('.json')) {
    const twice = duplicateKey(text);
    if (twice) throw new SpecError(name, [`${name}: not valid: ${twice}`]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new SpecError(name, [
      `${name}: (top level): must be a mapping with name, root, goal, budget, evidence, executor`,
    ]);
  const secrets = secretsInSpec(raw);
  if (secrets.length)
    throw new SpecError(
      name,
      secrets.map((s) => secretLine(name, s)),
      SECRET_FIX,
    );
  // A --root on the command line is from the current folder, as the shell gives it (the spec's root: from its folder).
  if (overrides.root) (raw as Record<string, unknown>).root = resolve(overrides.root);
  // YAML reads a bare `~` as null: meant as the home folder, it would read as a missing root.
  else if ((raw as Record<string, unknown>).root === null && /^root:\s*~\s*(?:#.*)?$/m.test(text))
    throw new SpecError(name, [
      `${name}: root: a bare ~ is null in YAML, not your home folder: write "~" in quotes, or the folder's path`,
    ]);
  const parsed = LoopSpecSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new SpecError(name, formatIssues(name, parsed.error, LoopSpecSchema));
  const spec = parsed.data;
  // `~` and `~/…` are the home folder, as a shell would read them (the schema refuses `~user`).
  const home = /^~(?=\/|$)/.test(spec.root) ? join(homedir(), spec.root.slice(1)) : spec.root;
  const root = isAbsolute(home) ? home : resolve(dirname(resolve(file)), home);
  return {
    spec,
    config: toLoopConfig(spec, root),
    file,
    warnings: bareSecondsWarnings(raw as Record<string, unknown>),
  };
}
