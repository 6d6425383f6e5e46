import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { type FlagName } from '../flag-name.js';
import { parseSessionLabel, sessionLabel } from '../layout.js';
import { statusWord } from '../status-word.js';
import { AGENT_TOKEN_RE, DECISION_CLASSES, ROLES, STATUSES } from '../vocabulary.js';

/** Flag bodies (docs/protocol.md#flag-bodies): strict `key: value` lines the engine writes; lenient reading of others. */

export const ISO_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

export const ArtifactRefSchema = z.strictObject({
  /** Lowercase hex of the raw bytes; null for an external agent's plain `<path>`. */
  sha256: z.string().regex(SHA256_RE).nullable(),
  path: z.string().min(1).regex(/^\S+$/, 'must be a POSIX path without spaces'),
});
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;

export const ExpectSchema = z.strictObject({
  agent: z.string().regex(AGENT_TOKEN_RE),
  path: z.string().regex(/^\S+$/),
});

export const WaitSchema = z.strictObject({
  startSeconds: z.number().nonnegative(),
  doneSeconds: z.number().nonnegative(),
  heartbeatSeconds: z.number().nonnegative(),
  skipOnTimeout: z.boolean(),
});
export type Wait = z.infer<typeof WaitSchema>;

export const FlagBodySchema = z.strictObject({
  timestamp: z.string().regex(ISO_TIME_RE, 'must be ISO-8601 UTC with milliseconds and Z'),
  producer: z.string().regex(AGENT_TOKEN_RE),
  role: z.enum(ROLES),
  session: z.int().nonnegative(),
  status: z.enum(STATUSES),
  seq: z.int().nonnegative().optional(),
  writer: z.literal('engine').optional(),
  artifact: z.array(ArtifactRefSchema).optional(),
  expect: z.array(ExpectSchema).optional(),
  wait: WaitSchema.optional(),
  /** Agent tokens or roles; rendered comma-separated, `-` when empty. */
  next: z.array(z.string().regex(/^[A-Za-z0-9._]+$/)),
  code: z.string().min(1).optional(),
  subject: z.string().min(1).optional(),
  repairs: z.string().min(1).optional(),
  decision: z.enum(DECISION_CLASSES).optional(),
  reason: z.string().optional(),
  note: z.string().optional(),
});
export type FlagBody = z.infer<typeof FlagBodySchema>;

export const FLAG_BODY_KEYS = [
  'timestamp',
  'producer',
  'role',
  'session',
  'status',
  'seq',
  'writer',
  'artifact',
  'expect',
  'wait',
  'next',
  'code',
  'subject',
  'repairs',
  'decision',
  'reason',
  'note',
] as const satisfies readonly (keyof FlagBody)[];

export const MAX_FLAG_VALUE_CHARS = 1000;
export const MAX_FLAG_BODY_BYTES = 16 * 1024;
const FREE_TEXT_KEYS: ReadonlySet<string> = new Set(['reason', 'note', 'subject', 'code', 'repairs']);

const seconds = (n: number): string => `${n}s`;

function valueLines(body: FlagBody, key: (typeof FLAG_BODY_KEYS)[number]): string[] {
  switch (key) {
    case 'session':
      return [sessionLabel(body.session)];
    case 'artifact':
      return (body.artifact ?? []).map((a) => (a.sha256 ? `sha256:${a.sha256} ${a.path}` : a.path));
    case 'expect':
      return (body.expect ?? []).map((e) => `${e.agent} ${e.path}`);
    case 'wait': {
      const w = body.wait;
      return w
        ? [
            `start=${seconds(w.startSeconds)} done=${seconds(w.doneSeconds)} heartbeat=${seconds(w.heartbeatSeconds)} skip_on_timeout=${w.skipOnTimeout}`,
          ]
        : [];
    }
    case 'next':
      return [body.next.length ? body.next.join(',') : '-'];
    default: {
      const v = body[key];
      return v === undefined ? [] : [String(v)];
    }
  }
}

/** Collapses free text to one line of at most 1,000 characters (§2.2). */
export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= MAX_FLAG_VALUE_CHARS ? flat : `${flat.slice(0, MAX_FLAG_VALUE_CHARS - 1)}…`;
}

/**
 * The strict body text: keys in §2.2 order, `artifact` and `expect` repeated. Free-text values are
 * folded to one line; other over-long values, or a body over 16 KiB, throw a RangeError.
 */
export function renderFlagBody(input: FlagBody): string {
  const body = FlagBodySchema.parse(input);
  const lines: string[] = [];
  for (const key of FLAG_BODY_KEYS) {
    for (const raw of valueLines(body, key)) {
      const value = FREE_TEXT_KEYS.has(key) ? oneLine(raw) : raw;
      if (value.length > MAX_FLAG_VALUE_CHARS || /[\r\n]/.test(value)) {
        throw new RangeError(
          `flag body ${key}: must be one line of at most ${MAX_FLAG_VALUE_CHARS} characters (got ${value.length})`,
        );
      }
      lines.push(`${key}: ${value}`);
    }
  }
  const text = `${lines.join('\n')}\n`;
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_FLAG_BODY_BYTES)
    throw new RangeError(
      `flag body is ${bytes} bytes; the limit is ${MAX_FLAG_BODY_BYTES}: list fewer artifacts or shorten values`,
    );
  return text;
}

/** Identity and payload a lenient reader found in any body format. */
export interface FlagBodyFields {
  timestamp?: string;
  producer?: string;
  role?: string;
  session?: number;
  status?: string;
  seq?: number;
  writer?: string;
  artifact: ArtifactRef[];
  expect: { agent: string; path: string }[];
  next?: string[];
  code?: string;
  subject?: string;
  repairs?: string;
  decision?: string;
  reason?: string;
  note?: string;
}

export type FlagBodyFormat = 'empty' | 'text' | 'key-value' | 'json' | 'yaml';

export interface ParsedFlagBody {
  format: FlagBodyFormat;
  fields: FlagBodyFields;
  warnings: string[];
}

/** Other names for our keys, among them the words the original's SKILL.md uses for what a flag holds. */
const KEY_ALIASES: Readonly<Record<string, string>> = {
  agent: 'producer',
  agent_name: 'producer',
  producer_agent: 'producer',
  time: 'timestamp',
  at: 'timestamp',
  created_at: 'timestamp',
  written_at: 'timestamp',
  session_id: 'session',
  artifacts: 'artifact',
  artifact_paths: 'artifact',
  next_agent: 'next',
  blocking_reason: 'reason',
};
const KNOWN_KEYS: ReadonlySet<string> = new Set([...FLAG_BODY_KEYS, ...Object.keys(KEY_ALIASES)]);

function parseArtifactRef(text: string): ArtifactRef | undefined {
  // Agents often write a path as code: `loop_station/…/executor_report.md`.
  const plain = text.replace(/`/g, '').trim();
  const m = /^sha256:([0-9a-f]{64})\s+(\S+)$/.exec(plain);
  if (m) return { sha256: m[1]!, path: m[2]! };
  const path = plain;
  return /^\S+$/.test(path) ? { sha256: null, path } : undefined;
}

function parseWait(text: string): Wait | undefined {
  const kv = Object.fromEntries(
    text
      .trim()
      .split(/\s+/)
      .map((p) => p.split('=') as [string, string]),
  );
  const ms = (k: string) => (kv[k] === undefined ? undefined : parseDuration(kv[k]));
  const [start, done, heartbeat] = [ms('start'), ms('done'), ms('heartbeat')];
  const skip = kv.skip_on_timeout;
  if (start === undefined || done === undefined || heartbeat === undefined || (skip !== 'true' && skip !== 'false'))
    return undefined;
  return {
    startSeconds: start / 1000,
    doneSeconds: done / 1000,
    heartbeatSeconds: heartbeat / 1000,
    skipOnTimeout: skip === 'true',
  };
}

function unquote(v: string): string {
  const t = v.trim();
  return /^(['"]).*\1$/.test(t) && t.length >= 2 ? t.slice(1, -1) : t;
}

function addField(fields: FlagBodyFields, warnings: string[], rawKey: string, rawValue: unknown): void {
  const key = KEY_ALIASES[rawKey.toLowerCase()] ?? rawKey.toLowerCase();
  const values = Array.isArray(rawValue) ? rawValue : [rawValue];
  for (const item of values) {
    const value =
      typeof item === 'string'
        ? item.trim()
        : typeof item === 'number' || typeof item === 'boolean'
          ? String(item)
          : JSON.stringify(item);
    switch (key) {
      case 'session': {
        const n = parseSessionLabel(value) ?? (/^\d+$/.test(value) ? Number(value) : undefined);
        if (n === undefined) warnings.push(`session: ${value} is not a session number`);
        else fields.session = n;
        break;
      }
      case 'seq':
        if (/^\d+$/.test(value)) fields.seq = Number(value);
        else warnings.push(`seq: ${value} is not an integer`);
        break;
      case 'artifact': {
        // `artifacts: a.md, b.md` lists several on one line, and so does a YAML flow list `[a.md, "b.md"]`.
        const flow = /^\[(.*)\]$/s.exec(value)?.[1];
        const list =
          flow !== undefined
            ? flow.split(/\s*,\s*/).filter((one) => one.trim() !== '')
            : value.startsWith('sha256:')
              ? [value]
              : value.split(/\s*,\s+/);
        for (const one of list.map(unquote)) {
          const ref = parseArtifactRef(one);
          if (ref) fields.artifact.push(ref);
          else warnings.push(`artifact: ${one} is not \`sha256:<hex> <path>\` or \`<path>\``);
        }
        break;
      }
      case 'expect': {
        const m = /^(\S+)\s+(\S+)$/.exec(value);
        if (m) fields.expect.push({ agent: m[1]!, path: m[2]! });
        else warnings.push(`expect: ${value} is not \`<AGENT> <path>\``);
        break;
      }
      case 'next':
        fields.next =
          value === '-'
            ? []
            : value
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean);
        break;
      case 'timestamp':
      case 'producer':
      case 'role':
      case 'status':
      case 'writer':
      case 'code':
      case 'subject':
      case 'repairs':
      case 'decision':
      case 'reason':
      case 'note':
        fields[key] = value;
        break;
      default:
        // Unknown keys (wait, free notes of other tools) carry no identity: keep quiet.
        break;
    }
  }
}

/** The body exactly as renderFlagBody writes it, or undefined for any other text. */
export function readStrictFlagBody(text: string): FlagBody | undefined {
  if (!text.endsWith('\n')) return undefined;
  const draft: Record<string, unknown> = {};
  const lists: Record<'artifact' | 'expect', unknown[]> = { artifact: [], expect: [] };
  let last = -1;
  for (const line of text.slice(0, -1).split('\n')) {
    const m = /^([a-z]+): (.*)$/.exec(line);
    if (!m) return undefined;
    const key = m[1]! as (typeof FLAG_BODY_KEYS)[number];
    const index = FLAG_BODY_KEYS.indexOf(key);
    if (index < 0 || index < last || (index === last && key !== 'artifact' && key !== 'expect')) return undefined;
    last = index;
    const value = m[2]!;
    switch (key) {
      case 'session':
        draft.session = parseSessionLabel(value);
        break;
      case 'seq':
        draft.seq = /^\d+$/.test(value) ? Number(value) : value;
        break;
      case 'artifact':
        lists.artifact.push(parseArtifactRef(value));
        break;
      case 'expect': {
        const parts = value.split(' ');
        lists.expect.push(parts.length === 2 ? { agent: parts[0], path: parts[1] } : value);
        break;
      }
      case 'wait':
        draft.wait = parseWait(value);
        break;
      case 'next':
        draft.next = value === '-' ? [] : value.split(',');
        break;
      default:
        draft[key] = value;
    }
  }
  if (lists.artifact.length) draft.artifact = lists.artifact;
  if (lists.expect.length) draft.expect = lists.expect;
  const parsed = FlagBodySchema.safeParse(draft);
  // Only text renderFlagBody would write byte for byte counts as strict.
  return parsed.success && renderFlagBody(parsed.data) === text ? parsed.data : undefined;
}

/** Lenient reading (§2.4): empty, free text, `key: value`, JSON or YAML-ish bodies. */
export function parseFlagBody(text: string): ParsedFlagBody {
  const fields: FlagBodyFields = { artifact: [], expect: [] };
  const warnings: string[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return { format: 'empty', fields, warnings };
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      return { format: 'text', fields, warnings: ['body starts with { but is not JSON: read as text'] };
    }
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      for (const [k, v] of Object.entries(json)) if (v !== null && v !== undefined) addField(fields, warnings, k, v);
      return { format: 'json', fields, warnings };
    }
  }
  let format: FlagBodyFormat = 'key-value';
  let listKey: string | null = null;
  let keyLines = 0;
  for (const line of trimmed.split(/\r?\n/)) {
    if (line.trim() === '---' || line.trim() === '') continue;
    const item = /^\s*[-*]\s+(.*)$/.exec(line);
    // `- producer: CODEX`: a Markdown list of key lines, as agents write flags too.
    const keyed = item ? /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(item[1]!) : null;
    if (item && listKey && !(keyed && KNOWN_KEYS.has(keyed[1]!.toLowerCase()))) {
      addField(fields, warnings, listKey, unquote(item[1]!));
      format = 'yaml';
      continue;
    }
    const m = keyed ?? /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    keyLines += 1;
    const value = m[2]!;
    if (value === '') {
      listKey = m[1]!;
      continue;
    }
    listKey = null;
    if (/^(['"]).*\1$/.test(value.trim())) format = 'yaml';
    addField(fields, warnings, m[1]!, unquote(value));
  }
  return { format: keyLines === 0 ? 'text' : format, fields, warnings };
}

export interface IdentityMismatch {
  field: 'producer' | 'role' | 'session' | 'status';
  name: string;
  body: string;
}

/** A body's producer or role as its first word: `OUT (Claude Code reviewer)` is OUT, `` `REVIEWER` `` REVIEWER. */
const firstWord = (text: string): string => (/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*/.exec(text)?.[0] ?? '').toUpperCase();

const readingRole = (role: string): string => {
  const upper = firstWord(role);
  return upper === 'TESTER' || upper === 'ANALYST' ? 'REVIEWER' : upper;
};

/**
 * Identity a body states that differs from its name (FLAG_BODY_MISMATCH); absent fields pass. The
 * fields are read for the word they say, as report headers are (`status: DONE — review complete`
 * is DONE, `producer: OUT (Claude Code reviewer)` is OUT); another word is a mismatch.
 */
export function checkBodyIdentity(flag: FlagName, fields: FlagBodyFields): IdentityMismatch[] {
  const out: IdentityMismatch[] = [];
  if (fields.producer !== undefined && firstWord(fields.producer) !== flag.agent)
    out.push({ field: 'producer', name: flag.agent, body: fields.producer });
  if (fields.role !== undefined && readingRole(fields.role) !== readingRole(flag.role))
    out.push({ field: 'role', name: flag.role, body: fields.role });
  if (fields.session !== undefined && fields.session !== flag.session)
    out.push({ field: 'session', name: sessionLabel(flag.session), body: sessionLabel(fields.session) });
  if (fields.status !== undefined && statusWord(fields.status) !== flag.status)
    out.push({ field: 'status', name: flag.status, body: fields.status });
  return out;
}
