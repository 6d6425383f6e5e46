import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemas } from '../protocol/json-schemas.js';

/**
 * docs/loop-spec.md: the loop spec reference, rendered from the loop spec's JSON Schema (itself
 * generated from the zod schema in protocol/schemas/loop-spec.ts) into the hand-written prose of
 * scripts/loop-spec.template.md. `npm run schemas` writes it; test/unit/spec-docs.test.ts pins it.
 *
 * The template marks where tables go: `<!-- loop-spec:fields <path> -->` renders the fields of the
 * object at that path (`top` for the top level), `<!-- loop-spec:agents -->` the agent fields.
 */

export const TEMPLATE_PATH = fileURLToPath(new URL('./loop-spec.template.md', import.meta.url));
export const OUTPUT_PATH = fileURLToPath(new URL('../docs/loop-spec.md', import.meta.url));

/** The subset of JSON Schema that z.toJSONSchema writes for the loop spec. */
export interface SchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
}

interface Row {
  /** The field's name for people (`budget.sessions`). */
  path: string;
  name: string;
  node: SchemaNode;
  required: boolean;
  /** Where the Type column links for objects and agents. */
  link?: string;
}

const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const isAgentUnion = (n: SchemaNode): boolean =>
  (n.oneOf ?? []).length > 0 && n.oneOf!.every((k) => k.properties?.agent?.const !== undefined);
const types = (n: SchemaNode): string[] => (n.type === undefined ? [] : Array.isArray(n.type) ? n.type : [n.type]);
/** The spec's only string-or-number values are durations (`1h30m` or seconds). */
const isDuration = (n: SchemaNode): boolean =>
  types(n).length === 2 && types(n).includes('string') && types(n).includes('number');

function typeOf(n: SchemaNode, link?: string): string {
  const linked = (text: string) => (link ? `[${text}](#${link})` : text);
  if (isAgentUnion(n)) return linked('agent');
  if (n.anyOf) return n.anyOf.map((v) => (v.const !== undefined ? code(v.const) : typeOf(v, link))).join(' or ');
  if (n.const !== undefined) return code(n.const);
  if (isDuration(n)) return '[duration](#durations)';
  const t = types(n)[0];
  if (t === 'array') return `list of ${n.items ? typeOf(n.items, link) : 'values'}`;
  if (t === 'object') {
    if (n.properties) return linked('object');
    const values = typeof n.additionalProperties === 'object' ? typeOf(n.additionalProperties) : 'values';
    return `map of string to ${values}`;
  }
  if (t === 'integer') return 'integer';
  return t ?? 'any';
}

function allowedOf(n: SchemaNode): string {
  const list = types(n)[0] === 'array' && n.items !== undefined;
  const target = list ? n.items! : n;
  const parts: string[] = [];
  if (target.enum) parts.push(target.enum.map(code).join(', '));
  if (target.format === 'uri') parts.push('a URL');
  if (target.pattern !== undefined && target.pattern.length <= 40) parts.push(`matches ${code(target.pattern)}`);
  if (target.minLength === 1) parts.push('not empty');
  if (target.exclusiveMinimum !== undefined) parts.push(`> ${target.exclusiveMinimum}`);
  if (target.minimum !== undefined) parts.push(`≥ ${target.minimum}`);
  if (target.maximum !== undefined && target.maximum < Number.MAX_SAFE_INTEGER) parts.push(`≤ ${target.maximum}`);
  const text = parts.join('; ');
  // Enumerated values read as a set; other constraints hold for each entry of a list.
  return list && text !== '' && target.enum === undefined ? `each ${text}` : text;
}

function defaultOf(row: Row): string {
  const d = row.node.default;
  if (row.required) return 'required';
  if (d === undefined) return '';
  if (d !== null && typeof d === 'object' && !Array.isArray(d)) return "each field's default";
  return code(d);
}

/** Descriptions several fields share describe a type (a duration, a glob, a criterion), not the field. */
function sharedDescriptions(rows: readonly Row[]): Set<string> {
  const count = new Map<string, number>();
  for (const r of rows) {
    const d = ownDescription(r.node);
    if (d) count.set(d, (count.get(d) ?? 0) + 1);
  }
  return new Set([...count].filter(([, n]) => n > 1).map(([d]) => d));
}

/** The field's own description; for a list without one, its items'. */
const ownDescription = (n: SchemaNode): string | undefined => n.description ?? n.items?.description;

export class SpecDocs {
  private readonly rows: Row[] = [];

  constructor(private readonly schema: SchemaNode) {}

  private objectAt(path: string): SchemaNode {
    if (path === 'top') return this.schema;
    let node: SchemaNode | undefined = this.schema;
    for (const key of path.split('.')) {
      node = node?.properties?.[key];
      // A nullable object (`askTimeout: null | {…}`) documents its object member.
      if (node && !node.properties) node = node.anyOf?.find((v) => v.properties !== undefined) ?? node;
    }
    if (!node?.properties)
      throw new Error(
        `scripts/loop-spec.template.md: ${path} is not an object of the loop spec\n  fix: name an object field in its loop-spec:fields marker`,
      );
    return node;
  }

  /** The agent kinds, each with its fields, from the executor's union. */
  private agentKinds(): { kind: string; node: SchemaNode }[] {
    const union = this.schema.properties?.executor;
    if (!union || !isAgentUnion(union))
      throw new Error(
        'protocol/schemas/loop-spec.ts: executor is no longer a union of agent kinds\n  fix: update scripts/spec-docs.ts',
      );
    return union.oneOf!.map((node) => ({ kind: String(node.properties!.agent!.const), node }));
  }

  private fieldRows(path: string): Row[] {
    const object = this.objectAt(path);
    return Object.entries(object.properties!).map(([name, node]) => {
      const full = path === 'top' ? name : `${path}.${name}`;
      const nested = node.properties !== undefined || (node.anyOf ?? []).some((v) => v.properties !== undefined);
      const agent =
        isAgentUnion(node) ||
        (node.anyOf ?? []).some(isAgentUnion) ||
        (node.items !== undefined && isAgentUnion(node.items));
      return {
        path: full,
        name: full,
        node,
        required: object.required?.includes(name) ?? false,
        ...(agent ? { link: 'agents' } : nested ? { link: anchorOf(full) } : {}),
      };
    });
  }

  private agentRows(): { common: Row[]; byKind: { kind: string; rows: Row[] }[] } {
    const kinds = this.agentKinds();
    const names = Object.keys(kinds[0]!.node.properties!);
    const same = (name: string) =>
      kinds.every(
        (k) =>
          JSON.stringify(k.node.properties?.[name]) === JSON.stringify(kinds[0]!.node.properties![name]) &&
          (k.node.required ?? []).includes(name) === (kinds[0]!.node.required ?? []).includes(name),
      );
    const common = names.filter(same);
    const row = (kind: string, node: SchemaNode, name: string, shared: boolean): Row => ({
      path: shared ? `agent.${name}` : `${kind}.${name}`,
      name,
      node: node.properties![name]!,
      required: (node.required ?? []).includes(name),
    });
    // `agent` is the discriminator: one row listing the kinds, not one constant per kind.
    const described = kinds[0]!.node.properties!.agent!.description;
    const kindRow: Row = {
      path: 'agent.agent',
      name: 'agent',
      node: {
        type: 'string',
        enum: kinds.map((k) => k.kind),
        ...(described !== undefined ? { description: described } : {}),
      },
      required: true,
    };
    return {
      common: [kindRow, ...common.map((name) => row('agent', kinds[0]!.node, name, true))],
      byKind: kinds.map(({ kind, node }) => ({
        kind,
        rows: Object.keys(node.properties!)
          .filter((n) => n !== 'agent' && !common.includes(n))
          .map((n) => row(kind, node, n, false)),
      })),
    };
  }

  /** Every field the reference shows, for the description policy. */
  private allRows(): Row[] {
    const paths = ['top', ...this.objectPaths()];
    const agents = this.agentRows();
    return [...paths.flatMap((p) => this.fieldRows(p)), ...agents.common, ...agents.byKind.flatMap((k) => k.rows)];
  }

  /** Object-typed fields under the top level (budget, evidence, …): each needs its own table. */
  objectPaths(): string[] {
    return Object.entries(this.schema.properties ?? {})
      .filter(([, n]) => n.properties !== undefined)
      .map(([name]) => name);
  }

  /** The fields that have no description of their own in the zod schema (a shared type description does not count). */
  undescribed(): string[] {
    const all = this.allRows();
    const shared = sharedDescriptions(all);
    return all
      .filter((r) => {
        const own = ownDescription(r.node);
        return own === undefined || shared.has(own);
      })
      .map((r) => r.path);
  }

  private description(row: Row, shared: ReadonlySet<string>): string {
    const own = ownDescription(row.node);
    const specific = own !== undefined && !shared.has(own) ? own : undefined;
    // One source: the zod schema describes every field, so editors and this page say the same.
    if (specific === undefined) {
      throw new Error(
        `protocol/schemas/loop-spec.ts: ${row.path} has no description of its own\n  fix: add .meta({ description: '…' }) to it, then run npm run schemas`,
      );
    }
    return specific;
  }

  private table(rows: readonly Row[], shared: ReadonlySet<string>): string {
    const lines = ['| Field | Type | Default | Allowed | Description |', '|---|---|---|---|---|'];
    for (const r of rows) {
      lines.push(
        `| ${cell(code(r.name))} | ${cell(typeOf(r.node, r.link))} | ${cell(defaultOf(r))} | ${cell(allowedOf(r.node))} | ${cell(this.description(r, shared))} |`,
      );
    }
    return lines.join('\n');
  }

  private agentsSection(shared: ReadonlySet<string>): string {
    const { common, byKind } = this.agentRows();
    const parts = [`Fields of every agent kind:\n\n${this.table(common, shared)}`];
    for (const { kind, rows } of byKind) {
      parts.push(
        rows.length ? `\`agent: ${kind}\` adds:\n\n${this.table(rows, shared)}` : `\`agent: ${kind}\` adds nothing.`,
      );
    }
    return parts.join('\n\n');
  }

  render(template: string): string {
    const all = this.allRows();
    const shared = sharedDescriptions(all);
    const seen = new Set<string>();
    const out = template.replace(
      /<!-- loop-spec:(fields (\S+)|agents) -->/g,
      (_m, _what: string, path: string | undefined) => {
        if (path === undefined) {
          seen.add('agents');
          return this.agentsSection(shared);
        }
        seen.add(path);
        return this.table(this.fieldRows(path), shared);
      },
    );
    const missing = ['top', 'agents', ...this.objectPaths()].filter((p) => !seen.has(p));
    if (missing.length)
      throw new Error(
        `scripts/loop-spec.template.md: no table for ${missing.join(', ')}\n  fix: add a section with <!-- loop-spec:${missing[0] === 'agents' ? 'agents' : `fields ${missing[0]}`} --> for it`,
      );
    return out;
  }
}

/** `reviewWait` → `review-wait`: the anchor of an object's section. */
export function anchorOf(path: string): string {
  return path
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
}

const HEADER =
  '<!-- Generated by `npm run schemas` from protocol/schemas/loop-spec.ts (the fields) and scripts/loop-spec.template.md (the prose): edit those, not this file. -->\n\n';

/** docs/loop-spec.md as the current schema and template make it. */
export function renderLoopSpecDocs(): string {
  const schema = JSON.parse(renderJsonSchemas().get('loop-spec.schema.json')!) as SchemaNode;
  return HEADER + new SpecDocs(schema).render(readFileSync(TEMPLATE_PATH, 'utf8'));
}
