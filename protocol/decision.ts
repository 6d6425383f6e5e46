import { z } from 'zod';
import { axisKey, looseDecisionFields, normalizeKey, stripValue } from './decision-loose.js';
import { DECISION_TRAITS } from './decision-traits.js';
import { formatDuration, parseDuration } from './duration.js';
import { parseSessionLabel, sessionFilePath, sessionLabel } from './layout.js';
import { sectionBody } from './markdown.js';
import { interventionLine } from './render/records.js';
import { bullets, num } from './render/table.js';
import { oneLine } from './schemas/flag-body.js';
import { type FolderMode, makeFinding } from './finding.js';
import type { Finding } from './schemas/finding.js';
import {
  type AxisState,
  type Best,
  type DecisionBlock,
  DecisionBlockSchema,
  type Intervention,
} from './schemas/state.js';
import { DECISION_CLASSES, type DecisionClass, REVIEW_TOKEN_VERDICTS, STOP_REASONS } from './vocabulary.js';

/** decision.md (docs/protocol.md#decision-block): a `loop-station-decision` block, then the judgment sections. */

const DECISION_INFO_STRING = 'loop-station-decision';
const DECISION_KEYS = Object.keys(DecisionBlockSchema.shape) as (keyof DecisionBlock)[];

/** The original's class names, read as pivot_axis (§6, w). */
const LEGACY_CLASSES: Readonly<Record<string, DecisionClass>> = {
  retire_axis: 'pivot_axis',
  needs_new_axis: 'pivot_axis',
};

const NULL = 'null';

function blockValue(block: DecisionBlock, key: keyof DecisionBlock): string {
  switch (key) {
    case 'session':
      return sessionLabel(block.session);
    case 'best_session':
      return block.best_session === null ? NULL : sessionLabel(block.best_session);
    case 'reviews':
      return block.reviews.length ? block.reviews.map((r) => `${r.agent}:${r.verdict}`).join(' ') : NULL;
    case 'reason':
    case 'next':
      return block[key] === null ? NULL : oneLine(block[key]) || NULL;
    default: {
      const v = block[key];
      return v === null ? NULL : String(v);
    }
  }
}

/** The fenced block alone, keys in §6 order, `null` for none. */
export function renderDecisionBlock(block: DecisionBlock): string {
  const checked = DecisionBlockSchema.parse(block);
  return ['```' + DECISION_INFO_STRING, ...DECISION_KEYS.map((k) => `${k}: ${blockValue(checked, k)}`), '```'].join(
    '\n',
  );
}

export interface RemainingBudget {
  sessions: number;
  wallClockMs: number | null;
  tokens: number | null;
  costUsd: number | null;
}

export interface DecisionDocInput {
  block: DecisionBlock;
  /** Integrated Judgment prose: the supervisor's reasoning over metrics and reviews. */
  judgment: string;
  remaining: RemainingBudget;
  best: Best | null;
  axes: readonly AxisState[];
  plateauSessions: number;
  /** Human messages answered by this decision; the section appears only when there are some. */
  interventions: readonly Intervention[];
}

const unlimited = (v: string | null): string => v ?? 'unlimited';

function pivotText(block: DecisionBlock, axes: readonly AxisState[], plateauSessions: number): string {
  const axis = block.axis ?? 'default';
  const state = axes.find((a) => a.name === axis);
  if (block.class !== 'pivot_axis')
    return `no pivot: axis ${axis} plateau ${state?.plateau ?? 0} of ${plateauSessions}`;
  if (axis === 'default')
    return 'axis default is never retired: its plateau resets; the executor picks a new direction';
  return `axis ${axis} retired; next axis: ${block.next_axis ?? 'the executor picks'}`;
}

export function renderDecision(input: DecisionDocInput): string {
  const { block, remaining, best } = input;
  const retired = input.axes.filter((a) => a.retired);
  const parts = [
    `# Decision — session ${sessionLabel(block.session)}`,
    '',
    renderDecisionBlock(block),
    '',
    '## Integrated Judgment',
    '',
    input.judgment.trim() || (block.reason ?? 'no reasoning recorded'),
    '',
    bullets(
      block.reviews.map((r) => `${r.agent}: ${r.verdict}`),
      'no counted reviews',
    ),
    '',
    '## Remaining Budget',
    '',
    bullets([
      `sessions: ${remaining.sessions}`,
      `wall clock: ${unlimited(remaining.wallClockMs === null ? null : formatDuration(remaining.wallClockMs))}`,
      `tokens: ${unlimited(remaining.tokens === null ? null : String(remaining.tokens))}`,
      `cost_usd: ${unlimited(remaining.costUsd === null ? null : String(remaining.costUsd))}`,
    ]),
    '',
    '## Best Known Candidate',
    '',
    best
      ? bullets([
          `session: ${sessionLabel(best.session)}`,
          `value: ${best.value}`,
          `axis: ${best.axis ?? 'default'}`,
          `variant: ${best.variant}`,
        ])
      : '- none: no value with passing protection yet',
    '',
    '## Retired Axes',
    '',
    bullets(
      retired.map(
        (a) =>
          `${a.name} (retired at session ${a.retiredAtSession === null ? '-' : sessionLabel(a.retiredAtSession)}, best measured ${num(a.bestValue)})`,
      ),
    ),
    '',
    '## Pivot Decision',
    '',
    pivotText(block, input.axes, input.plateauSessions),
    '',
    '## Next Action',
    '',
    `${block.class}: ${DECISION_TRAITS[block.class].effect}${block.approval === 'pending' ? ` (waiting for approval: approve → ${block.on_approve ?? block.class}, deny → ${block.on_deny ?? 'keep'})` : ''}`,
    ...(block.next ? ['', `next: ${block.next}`] : []),
    '',
  ];
  if (input.interventions.length) {
    parts.push('## Human Interventions', '', bullets(input.interventions.map(interventionLine)), '');
  }
  return parts.join('\n');
}

export interface ParsedRemainingBudget {
  /** Undefined when a line is missing or unreadable. */
  remaining?: RemainingBudget;
  problems: string[];
}

const REMAINING_LINE = /^- (sessions|wall clock|tokens|cost_usd): (.*)$/;

/** Reads back the `## Remaining Budget` section renderDecision writes (`unlimited` is null). */
export function parseRemainingBudget(md: string): ParsedRemainingBudget {
  const body = sectionBody(md, 'Remaining Budget');
  if (body === undefined) return { problems: ['it has no ## Remaining Budget section'] };
  const lines = new Map(
    body
      .split('\n')
      .map((l) => REMAINING_LINE.exec(l.trim()))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!.trim()]),
  );
  const problems: string[] = [];
  const count = (v: string) => (/^\d+$/.test(v) ? Number(v) : undefined);
  const amount = (v: string) => (v !== '' && Number.isFinite(Number(v)) && Number(v) >= 0 ? Number(v) : undefined);
  const field = (key: string, parse: (v: string) => number | undefined, unlimited: boolean): number | null => {
    const v = lines.get(key);
    if (v === undefined) problems.push(`no "- ${key}:" line`);
    else if (unlimited && v === 'unlimited') return null;
    else if (parse(v) === undefined)
      problems.push(`${key}: ${JSON.stringify(v)} is not ${unlimited ? 'a value or unlimited' : 'a count'}`);
    else return parse(v)!;
    return null;
  };
  const remaining = {
    sessions: field('sessions', count, false) ?? 0,
    wallClockMs: field('wall clock', parseDuration, true),
    tokens: field('tokens', count, true),
    costUsd: field('cost_usd', amount, true),
  };
  return problems.length ? { problems } : { remaining, problems };
}

export interface ParseDecisionOptions {
  /** `original` folders: keys in any order, missing keys null, the original's class names (warnings). */
  mode?: FolderMode;
  session?: number;
}

export interface ParsedDecision {
  block?: DecisionBlock;
  findings: Finding[];
}

const FENCE_RE = new RegExp('^```' + DECISION_INFO_STRING + '\\s*$');

function fencedBlocks(md: string): string[][] {
  const blocks: string[][] = [];
  let current: string[] | null = null;
  for (const line of md.split(/\r?\n/)) {
    if (current === null && FENCE_RE.test(line)) current = [];
    else if (current !== null && line.startsWith('```')) {
      blocks.push(current);
      current = null;
    } else if (current !== null) current.push(line);
  }
  return blocks;
}

function parseValue(key: keyof DecisionBlock, text: string): unknown {
  if (text === NULL) {
    return key === 'reviews' ? [] : null;
  }
  switch (key) {
    case 'session':
    case 'best_session':
      return parseSessionLabel(text) ?? (/^\d+$/.test(text) ? Number(text) : text);
    case 'value':
    case 'best_value':
      return text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'reviews':
      return text
        .split(/\s+/)
        .filter(Boolean)
        .map((t) => {
          const i = t.lastIndexOf(':');
          return i < 0 ? t : { agent: t.slice(0, i), verdict: t.slice(i + 1) };
        });
    default:
      return text;
  }
}

/**
 * Reads the block back (the last one wins: a `## Repair Decision` supersedes). Engine folders need
 * every key in order; original folders get defaults and warnings.
 */
export function parseDecisionBlock(md: string, options: ParseDecisionOptions = {}): ParsedDecision {
  const mode = options.mode ?? 'engine';
  const session = options.session ?? null;
  const file = session === null ? null : sessionFilePath(session, 'decision');
  const findings: Finding[] = [];
  const add = (message: string, fix: string, warning = false) => {
    const f = makeFinding(mode, 'DECISION_BLOCK_INVALID', { session, file }, message, fix);
    findings.push(warning ? { ...f, severity: 'warning' } : f);
  };
  const blocks = fencedBlocks(md);
  const lines = blocks.at(-1);
  if (!lines) {
    const fix = `open decision.md with a \`\`\`${DECISION_INFO_STRING} block holding ${DECISION_KEYS.join(', ')}`;
    // The original skill has no such block: its decisions are prose, read by people.
    if (mode === 'original')
      add(
        `decision.md has no \`\`\`${DECISION_INFO_STRING} block: its class is not machine-readable`,
        `optional in a hand-run folder; to let loop-station read the decision, ${fix}`,
      );
    else add(`decision.md has no \`\`\`${DECISION_INFO_STRING} block`, fix);
    return { findings };
  }
  const draft: Record<string, unknown> = {};
  const order: string[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const m = /^([a-z_]+):\s?(.*)$/.exec(line);
    if (!m) {
      add(
        `decision block line ${JSON.stringify(line)} is not \`key: value\``,
        'write one `key: value` per line in the block',
      );
      return { findings };
    }
    const key = m[1]! as keyof DecisionBlock;
    if (!DECISION_KEYS.includes(key)) {
      add(`decision block has unknown key ${key}`, `keep only ${DECISION_KEYS.join(', ')}`, mode === 'original');
      continue;
    }
    order.push(key);
    draft[key] = parseValue(key, m[2]!.trim());
  }
  if (typeof draft.class === 'string' && draft.class in LEGACY_CLASSES) {
    add(
      `class ${draft.class} is the original's name; read as ${LEGACY_CLASSES[draft.class]}`,
      `write class: ${LEGACY_CLASSES[draft.class]}`,
      true,
    );
    draft.class = LEGACY_CLASSES[draft.class];
  }
  if (mode === 'original') {
    // Hand-written blocks say `Promote` or `return to best`: read the class as the agent meant it.
    if (typeof draft.class === 'string' && !(DECISION_CLASSES as readonly string[]).includes(draft.class)) {
      const read = readClass(draft.class);
      if (read) {
        add(`class ${draft.class} read as ${read.value}`, `write class: ${read.value}`, true);
        draft.class = read.value;
      }
    }
    for (const key of DECISION_KEYS) if (!(key in draft)) draft[key] = key === 'reviews' ? [] : null;
    draft.protection ??= 'unknown';
    draft.approval ??= 'none';
    draft.source ??= 'agent';
    if (draft.session === null && session !== null) draft.session = session;
  } else if (order.join(',') !== DECISION_KEYS.join(',')) {
    const missing = DECISION_KEYS.filter((k) => !order.includes(k));
    add(
      missing.length
        ? `decision block lacks ${missing.join(', ')}`
        : `decision block keys are out of order: ${order.join(', ')}`,
      `write the keys in this order: ${DECISION_KEYS.join(', ')}`,
    );
    return { findings };
  }
  const parsed = DecisionBlockSchema.safeParse(draft);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    add(
      `decision block ${issue.path.join('.')}: ${issue.message}`,
      `correct ${String(issue.path[0])} (docs/protocol.md#decision-block)`,
    );
    return { findings };
  }
  if (parsed.data.class === 'ask_user' && (parsed.data.on_approve === null || parsed.data.on_deny === null)) {
    add('class ask_user needs on_approve and on_deny', 'set on_approve and on_deny to decision classes');
    return { findings };
  }
  if (session !== null && parsed.data.session !== session) {
    add(
      `decision block says session ${sessionLabel(parsed.data.session)} in session ${sessionLabel(session)}`,
      `set session: ${sessionLabel(session)}`,
    );
    return { findings };
  }
  return { block: parsed.data, findings };
}

/** What the engine knows when it reads an agent supervisor's decision: the missing keys come from here. */
export interface AgentDecisionState {
  /** The session being decided. */
  session: number;
  /** The built-in rules' block for this session (the suggestion the agent was shown). */
  builtin: DecisionBlock;
}

/** An agent's decision read leniently: the block (source `agent`), the keys the engine filled, and notes; or why not. */
export type AgentDecisionRead =
  { block: DecisionBlock; filled: (keyof DecisionBlock)[]; notes: string[] } | { error: string };

/** Other names agents give the keys. */
const KEY_ALIASES: Readonly<Record<string, keyof DecisionBlock>> = {
  decision: 'class',
  decision_class: 'class',
  classification: 'class',
  session_number: 'session',
  current_value: 'value',
  metric_value: 'value',
  protection_status: 'protection',
  review: 'reviews',
  reviewers: 'reviews',
  approval_needed: 'approval',
  stop: 'stop_reason',
  rationale: 'reason',
  reasoning: 'reason',
  justification: 'reason',
  why: 'reason',
  next_action: 'next',
  next_step: 'next',
  next_steps: 'next',
};

const canonicalKey = (key: string): keyof DecisionBlock | undefined =>
  (DECISION_KEYS as string[]).includes(key) ? (key as keyof DecisionBlock) : KEY_ALIASES[key];

const KNOWN_KEYS: ReadonlySet<string> = new Set([...DECISION_KEYS, ...Object.keys(KEY_ALIASES)]);
const CLASS_KEYS: ReadonlySet<string> = new Set([
  'class',
  ...Object.keys(KEY_ALIASES).filter((k) => KEY_ALIASES[k] === 'class'),
]);
const INFO_STRINGS: ReadonlySet<string> = new Set([DECISION_INFO_STRING, 'loop_station_decision', 'decision']);

const NULLISH = new Set(['', 'null', 'none', '~', 'n/a', 'na', '-', '—', 'nil', 'undefined', 'nothing']);
const isNullish = (text: string): boolean => NULLISH.has(text.trim().toLowerCase());

/** `Return to best`, `return-to-best`, `**promote**.` → `return_to_best`, `promote`. */
const classWord = (text: string): string =>
  stripValue(text)
    .toLowerCase()
    .replace(/[.!]+$/, '')
    .replace(/[\s-]+/g, '_');

const CLASS_SYNONYMS: Readonly<Record<string, DecisionClass>> = {
  ...LEGACY_CLASSES,
  pivot: 'pivot_axis',
  return: 'return_to_best',
  more_evidence: 'needs_more_evidence',
  code_variant: 'needs_code_variant',
  ask: 'ask_user',
};

/** A class from the value, or from its first word (`keep — no gain`); undefined when neither is one. */
export function readClass(text: string): { value: DecisionClass; synonym: boolean } | undefined {
  for (const word of [classWord(text), classWord(stripValue(text).split(/[\s(,;:—]+/)[0] ?? '')]) {
    if ((DECISION_CLASSES as readonly string[]).includes(word)) return { value: word as DecisionClass, synonym: false };
    if (word in CLASS_SYNONYMS) return { value: CLASS_SYNONYMS[word]!, synonym: true };
  }
  return undefined;
}

function readSession(text: string): number | undefined {
  const m = /^(?:session[_\s]*|s)?#?0*(\d+)$/i.exec(stripValue(text));
  return m ? Number(m[1]) : undefined;
}

function readNumber(text: string): number | null | undefined {
  if (isNullish(text)) return null;
  const m = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/i.exec(text);
  return m && Number.isFinite(Number(m[0])) ? Number(m[0]) : undefined;
}

const PROTECTION_WORDS: Readonly<Record<string, DecisionBlock['protection']>> = Object.fromEntries([
  ...[
    'pass',
    'passed',
    'passes',
    'passing',
    'ok',
    'okay',
    'yes',
    'true',
    'green',
    'held',
    'holds',
    'intact',
    'clean',
    '✅',
    '✓',
  ].map((w) => [w, 'pass'] as const),
  ...['fail', 'failed', 'fails', 'failing', 'no', 'false', 'red', 'violated', 'broken', 'breached', '❌', '✗'].map(
    (w) => [w, 'fail'] as const,
  ),
  ...['unknown', 'unclear', 'unmeasured', 'untested', '?'].map((w) => [w, 'unknown'] as const),
]);

function readProtection(text: string): DecisionBlock['protection'] | undefined {
  const word =
    stripValue(text)
      .toLowerCase()
      .split(/[\s(,;:.—]+/)[0] ?? '';
  return isNullish(word) ? 'unknown' : PROTECTION_WORDS[word];
}

/** `CLAUDE:supported CODEX: uncertain`, `CLAUDE (supported)`; undefined when the text names none (prose). */
function readReviews(text: string): DecisionBlock['reviews'] | undefined {
  if (isNullish(text)) return [];
  const found = [...text.matchAll(/([A-Za-z0-9._]+)\s*(?::|=|\()\s*([A-Za-z_]+)/g)]
    .map((m) => ({ agent: m[1]!.toUpperCase(), verdict: m[2]!.toLowerCase() }))
    .filter((r) => (REVIEW_TOKEN_VERDICTS as readonly string[]).includes(r.verdict));
  return found.length ? (found as DecisionBlock['reviews']) : undefined;
}

function readApproval(text: string): DecisionBlock['approval'] | undefined {
  const word =
    stripValue(text)
      .toLowerCase()
      .split(/[\s(,;:.—]+/)[0] ?? '';
  if (isNullish(word) || ['none', 'no', 'false', 'not'].includes(word)) return 'none';
  if (['pending', 'yes', 'true', 'required', 'needed', 'ask', 'asked', 'awaiting', 'waiting'].includes(word))
    return 'pending';
  return undefined;
}

function readStopReason(text: string): DecisionBlock['stop_reason'] | undefined {
  if (isNullish(text)) return null;
  const word = classWord(text);
  if ((STOP_REASONS as readonly string[]).includes(word)) return word as DecisionBlock['stop_reason'];
  return ['success', 'goal', 'goal_reached', 'goal_achieved', 'success_met'].includes(word) ? 'goal_met' : undefined;
}

const textOrNull = (text: string): string | null => (isNullish(stripValue(text)) ? null : stripValue(text));

/** Reads one key's text; undefined = unreadable (the engine's value is used, with a note). */
function readKey(key: keyof DecisionBlock, text: string): unknown {
  switch (key) {
    case 'class':
      return readClass(text)?.value;
    case 'session':
      return readSession(text);
    case 'best_session':
      return isNullish(text) ? null : readSession(text);
    case 'value':
    case 'best_value':
      return readNumber(text);
    case 'protection':
      return readProtection(text);
    case 'reviews':
      return readReviews(text);
    case 'approval':
      return readApproval(text);
    case 'on_approve':
    case 'on_deny':
      return isNullish(stripValue(text)) ? null : readClass(text)?.value;
    case 'stop_reason':
      return readStopReason(text);
    case 'axis':
    case 'next_axis': {
      const v = textOrNull(text);
      // Keyed as the executor's report axis is (`Learning Rate Schedule` is `learning-rate-schedule`).
      return v === null ? null : axisKey(v);
    }
    case 'source':
      return 'agent';
    default:
      return textOrNull(text);
  }
}

const classList = DECISION_CLASSES.join(', ');

/**
 * An agent supervisor's decision.md read the way agents write it (docs/protocol.md#agent-supervisor):
 * keys in any order and under common other names, loose values (`passed`, `001`, `Promote`), the
 * block in any fence or none, prose around it. Only the class must be there and valid; every other
 * missing or unreadable key is taken from the engine's state and listed. `validate` keeps the
 * strict parseDecisionBlock for engine folders.
 */
/** Sections an agent gives its reasoning under, in the order they are looked for. */
const JUDGMENT_SECTIONS = [
  'Integrated Judgment',
  'Rationale',
  'Reasoning',
  'Reason',
  'Judgment',
  'Justification',
  'Why',
];

/**
 * The reason an agent gave without a `reason:` key: the first judgment section's prose (its
 * `key: value` lines left out), else what follows the class on its line (`Return to best — the gain
 * is within noise.`); null when it wrote neither.
 */
export function agentReason(text: string, classText: string): string | null {
  const keyLine = /^\s*(?:[-*+]\s+)?(?:\*\*|__)?([\w\s-]+?)(?:\*\*|__)?\s*:(?:\*\*|__)?\s/;
  for (const title of JUDGMENT_SECTIONS) {
    const body = sectionBody(text, title);
    if (!body) continue;
    const prose = body
      .split(/\r?\n/)
      .filter((line) => {
        const key = keyLine.exec(line)?.[1];
        return key === undefined || !KNOWN_KEYS.has(normalizeKey(key));
      })
      .map((line) => line.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, '').trim())
      .filter(Boolean)
      .join(' ');
    if (/\w/u.test(prose)) return flatten(prose);
  }
  const after = /(?:\s[-–—]+\s|[–—:;(])\s*(.+)$/u.exec(stripValue(classText))?.[1];
  const rest = after?.replace(/[)\s]+$/, '').trim();
  return rest && rest.split(/\s+/).length >= 2 ? flatten(rest) : null;
}

/** One line, at most 600 characters: a reason as decision.md and the next prompts quote it. */
const flatten = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= 600 ? flat : `${flat.slice(0, 599)}…`;
};

export function readAgentDecisionBlock(text: string, state: AgentDecisionState): AgentDecisionRead {
  const how = `write a \`\`\`${DECISION_INFO_STRING} block with \`class: <one of ${classList}>\``;
  const loose = looseDecisionFields(text, KNOWN_KEYS, CLASS_KEYS, INFO_STRINGS);
  if (!loose) return { error: `decision.md holds no decision block and no \`class:\` line: ${how}` };
  const notes: string[] = [];
  const read = new Map<keyof DecisionBlock, string>();
  const ignored: string[] = [];
  for (const [key, value] of loose.fields) {
    const canonical = canonicalKey(key);
    if (canonical === undefined) ignored.push(key);
    else if (!read.has(canonical) || canonical === key) read.set(canonical, value);
  }
  const classText = read.get('class');
  if (classText === undefined) return { error: `${loose.source} has no \`class\` key: ${how}` };
  // A class quoted before the one decided (`the rules suggested class: promote … my decision: class: keep`)
  // cannot be told from the decision: the agent is asked to write it once.
  const classes = new Set(
    [...loose.all].filter(([k]) => CLASS_KEYS.has(k)).flatMap(([, v]) => v.flatMap((t) => readClass(t)?.value ?? [])),
  );
  if (classes.size > 1)
    return {
      error: `${loose.source} names more than one class (${[...classes].join(', ')}): ${how}, once, with the class you decide`,
    };
  const cls = readClass(classText);
  if (!cls)
    return {
      error: `class ${JSON.stringify(stripValue(classText))} in ${loose.source} is not a decision class: write \`class: <one of ${classList}>\``,
    };
  if (cls.synonym) notes.push(`class ${JSON.stringify(stripValue(classText))} read as ${cls.value}`);
  const draft: Record<string, unknown> = { class: cls.value };
  const filled: (keyof DecisionBlock)[] = [];
  const unreadable: string[] = [];
  for (const key of DECISION_KEYS) {
    if (key === 'class') continue;
    const raw = read.get(key);
    const value = raw === undefined ? undefined : readKey(key, raw);
    if (value === undefined) {
      draft[key] = key === 'source' ? 'agent' : state.builtin[key];
      if (key === 'source') continue;
      filled.push(key);
      if (raw !== undefined) unreadable.push(`${key} ${JSON.stringify(stripValue(raw))}`);
    } else draft[key] = value;
  }
  if (draft.session !== state.session) {
    notes.push(
      `session ${JSON.stringify(read.get('session'))} is not this session: read as ${sessionLabel(state.session)}`,
    );
    draft.session = state.session;
  }
  if (cls.value === 'ask_user') {
    draft.approval = 'pending';
    // The original's rule: ask before stopping early; a denial goes on.
    for (const [key, fallback] of [
      ['on_approve', 'stop'],
      ['on_deny', 'keep'],
    ] as const) {
      if (draft[key] !== null) continue;
      draft[key] = state.builtin.class === 'ask_user' ? state.builtin[key] : fallback;
      if (!filled.includes(key)) filled.push(key);
    }
  }
  // The built-in rules' reason argues for their class, which may not be the agent's: its own words, or none.
  if (filled.includes('reason')) {
    draft.reason = agentReason(text, classText) ?? 'the supervisor agent gave no reason';
    filled.splice(filled.indexOf('reason'), 1);
  }
  const parsed = DecisionBlockSchema.safeParse(draft);
  // Every value above is read into its schema's set; a failure here is a bug, reported as one.
  if (!parsed.success) return { error: `decision block: ${z.prettifyError(parsed.error)}` };
  if (filled.length) notes.push(`filled from the engine's state: ${filled.join(', ')}`);
  if (unreadable.length) notes.push(`unreadable, the engine's value used: ${unreadable.join('; ')}`);
  if (ignored.length) notes.push(`ignored unknown keys: ${ignored.join(', ')}`);
  if (loose.repeated.length) notes.push(`written more than once: ${loose.repeated.join(', ')}`);
  return { block: parsed.data, filled, notes };
}
