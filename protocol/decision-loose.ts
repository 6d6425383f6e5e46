import { parse as parseYaml } from 'yaml';

/**
 * Finding the key/value pairs of a decision an agent wrote, in the forms agents write it: a
 * ```loop-station-decision block, a ```yaml / ```json / plain fence, `key: value` lines, Markdown
 * lists (`- key: value`), bold keys (`**class:** promote`), a two-column table, or YAML/JSON
 * text, with prose around it. Values stay text here; protocol/decision.ts reads them.
 */

export interface LooseFields {
  /** Normalized key (`best session` → `best_session`) → raw value text, in the order read. */
  fields: Map<string, string>;
  /** Where the fields came from, for notes: `the loop-station-decision block`, `a yaml block`, `the text`. */
  source: string;
  /** Keys written more than once (the last one wins inside a block, the first one in prose). */
  repeated: string[];
  /** Every value read for each key, in order, for a caller that must tell a repeat from a contradiction. */
  all: Map<string, string[]>;
}

interface Fence {
  info: string;
  body: string[];
}

const FENCE_OPEN = /^\s{0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;

/** Fenced blocks in order: the fence character and length close it (CommonMark), an unclosed one runs to the end. */
export function fencedBlocks(text: string): Fence[] {
  const out: Fence[] = [];
  let open: { fence: string; block: Fence } | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (open === null) {
      const m = FENCE_OPEN.exec(line);
      if (m) open = { fence: m[1]!, block: { info: m[2]!.toLowerCase(), body: [] } };
      continue;
    }
    const close = /^\s{0,3}(`{3,}|~{3,})\s*$/.exec(line);
    if (close && close[1]![0] === open.fence[0] && close[1]!.length >= open.fence.length) {
      out.push(open.block);
      open = null;
    } else open.block.body.push(line);
  }
  if (open) out.push(open.block);
  return out;
}

/** `Best Session`, `best-session`, `**best_session**` → `best_session`. */
export const normalizeKey = (key: string): string =>
  key
    .replace(/[*_`"']+$|^[*_`"']+/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

const MARKUP_EDGE = /^[\s*_`"']+|[\s*_`"',;]+$/g;

/** Strips the Markdown and quoting agents put around a value: `**promote**`, `"promote"`, `` `promote` ``. */
export const stripValue = (value: string): string => value.replace(MARKUP_EDGE, '').trim();

// `- **class:** promote`, `**class**: promote`, `1. class = promote`, `class — promote` is prose, not a pair.
const PAIR_LINE = /^\s*(?:[-*+]|\d+[.)])?\s*[*_`]*\s*([A-Za-z][A-Za-z0-9 _-]{0,30}?)\s*[*_`]*\s*[:=]\s*(.*)$/;
const TABLE_ROW = /^\s*\|([^|]+)\|([^|]*)\|?\s*$/;

function pairsFromLines(lines: readonly string[], known: ReadonlySet<string>, strict: boolean): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: string | null = null;
  for (const line of lines) {
    const table = TABLE_ROW.exec(line);
    const pair = table && !/^[\s:-]+$/.test(table[1]!) ? [line, table[1]!, table[2]!] : PAIR_LINE.exec(line);
    const key = pair ? normalizeKey(pair[1]!) : null;
    if (pair && key && (strict || known.has(key))) {
      out.set(key, [...(out.get(key) ?? []), pair[2]!.trim()]);
      last = key;
      continue;
    }
    // An indented or list line under a key continues its value (a YAML-ish folded reason).
    if (last !== null && /^\s+\S/.test(line) && !pair) {
      const values = out.get(last)!;
      // A YAML block scalar's marker (`reason: >-`) is not part of the value.
      const head = /^[>|][-+]?$/.test(values.at(-1)!) ? '' : values.at(-1)!;
      values[values.length - 1] = `${head} ${line.trim()}`.trim();
      continue;
    }
    if (line.trim() === '' || !strict) last = null;
  }
  return out;
}

/** A JSON (or, for a ```yaml fence, YAML) object; a list of one-key objects is merged; else undefined. */
function structured(body: string, yaml: boolean): Record<string, unknown> | undefined {
  const tries = [() => JSON.parse(body) as unknown];
  if (yaml) tries.push(() => parseYaml(body, { prettyErrors: false }) as unknown);
  for (const attempt of tries) {
    let value: unknown;
    try {
      value = attempt();
    } catch {
      continue;
    }
    if (Array.isArray(value) && value.every((v) => v && typeof v === 'object' && !Array.isArray(v)))
      value = Object.assign({}, ...(value as object[]));
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      // A single key holding the decision (`decision: {class: …}`) is unwrapped.
      const only = Object.values(record);
      if (only.length === 1 && only[0] && typeof only[0] === 'object' && !Array.isArray(only[0]))
        return only[0] as Record<string, unknown>;
      return record;
    }
  }
  return undefined;
}

const valueText = (v: unknown): string => {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return v.map(valueText).join(' ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // `- {agent: CLAUDE, verdict: supported}` reads as `CLAUDE:supported`.
    if (typeof o.agent === 'string' && typeof o.verdict === 'string') return `${o.agent}:${o.verdict}`;
    return Object.entries(o)
      .map(([k, x]) => `${k}:${valueText(x)}`)
      .join(' ');
  }
  return String(v as string | number | boolean);
};

function fromBlock(body: readonly string[], known: ReadonlySet<string>, yaml: boolean): Map<string, string[]> {
  const text = body.join('\n');
  const object = structured(text, yaml);
  const keys = object ? Object.keys(object).map(normalizeKey) : [];
  if (object && keys.some((k) => known.has(k))) {
    const out = new Map<string, string[]>();
    for (const [k, v] of Object.entries(object)) {
      const key = normalizeKey(k);
      out.set(key, [...(out.get(key) ?? []), valueText(v)]);
    }
    return out;
  }
  return pairsFromLines(body, known, true);
}

const flatten = (pairs: Map<string, string[]>, pick: 'first' | 'last'): LooseFields['fields'] =>
  new Map([...pairs].map(([k, v]) => [k, (pick === 'last' ? v.at(-1) : v[0])!]));

/**
 * The decision's fields from an agent's text: the last ```loop-station-decision block; else the
 * last fenced block of any kind that names a class; else `key: value` lines anywhere in the text
 * (known keys only: prose like `Note: …` is not a key). `classKeys` are the keys that name the class.
 */
export function looseDecisionFields(
  text: string,
  known: ReadonlySet<string>,
  classKeys: ReadonlySet<string>,
  infoStrings: ReadonlySet<string>,
): LooseFields | undefined {
  const blocks = fencedBlocks(text);
  const own = blocks.filter((b) => infoStrings.has(b.info));
  const candidates = own.length ? own : blocks;
  for (const block of [...candidates].reverse()) {
    const pairs = fromBlock(block.body, known, block.info === 'yaml' || block.info === 'yml');
    if (![...pairs.keys()].some((k) => classKeys.has(k)) && !own.length) continue;
    return {
      fields: flatten(pairs, 'last'),
      source: own.length ? `the \`\`\`${block.info} block` : `a ${block.info ? `\`\`\`${block.info}` : 'fenced'} block`,
      repeated: [...pairs].filter(([, v]) => v.length > 1).map(([k]) => k),
      all: pairs,
    };
  }
  const whole = structured(text, false);
  if (whole && Object.keys(whole).some((k) => classKeys.has(normalizeKey(k)))) {
    const pairs = fromBlock(text.split(/\r?\n/), known, false);
    return { fields: flatten(pairs, 'last'), source: 'the text', repeated: [], all: pairs };
  }
  const pairs = pairsFromLines(text.split(/\r?\n/), known, false);
  if (pairs.size === 0) return undefined;
  return {
    fields: flatten(pairs, 'first'),
    source: 'the text',
    repeated: [...pairs].filter(([, v]) => v.length > 1).map(([k]) => k),
    all: pairs,
  };
}

/**
 * An axis name as the engine keys it: `Learning Rate`, `` `lr` ``, `LR (warmup)` → `learning-rate`,
 * `lr`, `lr`. Letters and digits of any script count (`노이즈 필터` → `노이즈-필터`); spaces, `/`,
 * `&` and `+` between words become one `-` (`kernel/stride` → `kernel-stride`).
 */
export function axisKey(text: string): string | undefined {
  const name = stripValue(text.replace(/\([^)]*\)/g, ''))
    .normalize('NFC')
    .toLowerCase()
    .replace(/[.!]+$/, '')
    .trim()
    .replace(/[\s/&+]+/g, '-');
  return /^[\p{L}\p{M}\p{N}_.-]{1,64}$/u.test(name) ? name : undefined;
}
