import { DECISION_CLASSES, type DecisionClass, STOP_REASONS, type StopReason } from './vocabulary.js';
import type { DecisionBlock } from './schemas/state.js';

/**
 * An agent supervisor's decision block, read leniently (issue 15.5): keys in any order, missing
 * keys filled from the engine's state and listed, loose values read, prose around the block. Only
 * a missing or unknown `class` is an error, worded for the repair turn. The workflow's one call
 * is activities/artifacts.ts readAgentDecision; `validate` keeps the strict reader (decision.ts).
 *
 * Interim: protocol/decision.ts is getting the full reader under the same name and signature
 * (`readAgentDecisionBlock`); this one goes when it lands.
 */

/** What the engine knows of the session being decided: the reader fills missing keys from it. */
export interface AgentDecisionState {
  session: number;
  /** The built-in rules' block for this session (the suggestion the agent was shown). */
  builtin: DecisionBlock;
}

export type AgentDecisionRead = { block: DecisionBlock; filled: string[]; notes: string[] } | { error: string };

const LEGACY: Readonly<Record<string, DecisionClass>> = { retire_axis: 'pivot_axis', needs_new_axis: 'pivot_axis' };
const KEYS = [
  'class',
  'session',
  'metric',
  'value',
  'best_session',
  'best_value',
  'axis',
  'next_axis',
  'protection',
  'reviews',
  'approval',
  'on_approve',
  'on_deny',
  'stop_reason',
  'source',
  'reason',
  'next',
] as const satisfies readonly (keyof DecisionBlock)[];

/** The lines of the block the agent meant: the last `loop-station-decision` fence, else the last fence with a class, else all. */
function blockLines(text: string): string[] {
  const fences: { info: string; lines: string[] }[] = [];
  let current: { info: string; lines: string[] } | null = null;
  for (const line of text.split(/\r?\n/)) {
    const fence = /^\s*```+\s*([\w-]*)/.exec(line);
    if (fence && current === null) current = { info: fence[1]!.toLowerCase(), lines: [] };
    else if (fence && current !== null) {
      fences.push(current);
      current = null;
    } else current?.lines.push(line);
  }
  const hasClass = (lines: string[]) => lines.some((l) => keyValue(l)?.[0] === 'class');
  return (
    fences.filter((f) => f.info === 'loop-station-decision').at(-1)?.lines ??
    fences.filter((f) => hasClass(f.lines)).at(-1)?.lines ??
    text.split(/\r?\n/)
  );
}

/** `key: value`, `- **Key**: value`, `"key": "value",`: the key (lower case, `_` for spaces) and the value. */
function keyValue(line: string): [string, string] | null {
  const m = /^\s*(?:[-*]\s+)?(?:\*\*|__|`|")?([A-Za-z][A-Za-z _-]*?)(?:\*\*|__|`|")?\s*[:=]\s*(.*?)\s*,?\s*$/.exec(
    line,
  );
  if (!m) return null;
  const value = m[2]!.replace(/^\*\*|\*\*$/g, '').replace(/^["'`](.*)["'`]$/, '$1');
  return [
    m[1]!
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_'),
    value.trim(),
  ];
}

const word = (v: string) =>
  v
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_')
    .replace(/[^a-z_]/g, '');

function readClass(v: string | undefined): DecisionClass | string {
  if (v === undefined) return 'the decision block has no `class:` line';
  const w = word(v);
  if ((DECISION_CLASSES as readonly string[]).includes(w)) return w as DecisionClass;
  if (w in LEGACY) return LEGACY[w]!;
  return `class ${JSON.stringify(v)} is not a decision class`;
}

const isClass = (c: string): c is DecisionClass => (DECISION_CLASSES as readonly string[]).includes(c);

/** Reads an agent's decision text; missing keys come from the engine's own block for this session. */
export function readAgentDecisionBlock(text: string, state: AgentDecisionState): AgentDecisionRead {
  const engine: DecisionBlock = { ...state.builtin, session: state.session };
  const given = new Map<string, string>();
  for (const line of blockLines(text)) {
    const kv = keyValue(line);
    if (kv && (KEYS as readonly string[]).includes(kv[0]) && !given.has(kv[0])) given.set(kv[0], kv[1]);
  }
  const cls = readClass(given.get('class'));
  if (!isClass(cls))
    return {
      error: `${cls}: write one line \`class: <class>\` in a \`\`\`loop-station-decision block, the class one of ${DECISION_CLASSES.join(', ')}`,
    };
  const block: DecisionBlock = { ...engine, class: cls, source: 'agent' };
  const filled: string[] = [];
  const notes: string[] = [];
  const text_ = (key: 'axis' | 'next_axis' | 'reason' | 'next') => {
    const v = given.get(key);
    if (v === undefined) return;
    block[key] = v === '' || /^(null|none|-)$/i.test(v) ? null : v;
  };
  text_('axis');
  text_('next_axis');
  text_('reason');
  text_('next');
  const approval = given.get('approval');
  if (approval !== undefined) block.approval = /pending|yes|ask/i.test(approval) ? 'pending' : 'none';
  else filled.push('approval');
  for (const key of ['on_approve', 'on_deny'] as const) {
    const v = given.get(key);
    const c = v === undefined ? null : readClass(v);
    block[key] = c !== null && isClass(c) ? c : null;
    if (v !== undefined && (c === null || !isClass(c)) && !/^(null|none|-)?$/i.test(v))
      notes.push(`${key} ${JSON.stringify(v)} is not a class: read as null`);
  }
  const stop = given.get('stop_reason');
  if (stop !== undefined) {
    const w = word(stop);
    block.stop_reason = (STOP_REASONS as readonly string[]).includes(w) ? (w as StopReason) : null;
  } else block.stop_reason = null;
  if (cls === 'ask_user') {
    block.approval = 'pending';
    if (block.on_approve === null) {
      block.on_approve = engine.class === 'ask_user' ? (engine.on_approve ?? 'keep') : engine.class;
      filled.push('on_approve');
    }
    if (block.on_deny === null) {
      block.on_deny = 'keep';
      filled.push('on_deny');
    }
  } else if (block.approval === 'none') {
    block.on_approve = null;
    block.on_deny = null;
  }
  for (const key of KEYS) if (!given.has(key) && !filled.includes(key) && key !== 'source') filled.push(key);
  if (filled.length) notes.unshift(`filled from the engine's state: ${filled.join(', ')}`);
  return { block, filled, notes };
}
