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
import type { DecisionClass } from './vocabulary.js';

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
          `${a.name} (retired at session ${a.retiredAtSession === null ? '-' : sessionLabel(a.retiredAtSession)}, best value ${num(a.bestValue)})`,
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
