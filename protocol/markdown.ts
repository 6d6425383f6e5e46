/**
 * Minimal Markdown reading for the artifacts agents write (reports, proposals, reviews): header
 * lines (before the first section, or in a leading one) and `## Title` sections. Nothing else of Markdown matters here.
 * Agents title sections as they title anything: a file whose sections are all `###` (under a `#`
 * title) has them at that level, and `## 4. Results:` is the section Results.
 */

const HEADER_LINE_RE = /^\s*(?:[-*]\s+)?(?:\*\*)?([A-Za-z][A-Za-z0-9_ ./-]*?)(?:\*\*)?\s*:\s*(.*?)\s*$/;
const HEADING_RE = /^(#{2,6})[ \t]+(\S.*)$/;
const FENCE_RE = /^\s{0,3}(?:```|~~~)/;

const TABLE_ROW_RE = /^\s*\|(.*)\|\s*$/;
const TABLE_RULE_RE = /^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const headerKey = (key: string): string => key.trim().toLowerCase().replace(/\s+/g, '_');

/**
 * The lines that may hold a file's header: those before the first heading, then the first
 * section's own lines (agents group their header under `## Session Info` or `## Summary`).
 */
function headerRegion(md: string): string[] {
  const out: string[] = [];
  let headings = 0;
  let fenced = false;
  for (const line of md.split(/\r?\n/)) {
    if (FENCE_RE.test(line)) fenced = !fenced;
    const heading = !fenced && HEADING_RE.test(line);
    if (heading && ++headings > 1) break;
    if (!heading && !FENCE_RE.test(line) && !line.startsWith('# ')) out.push(line);
  }
  return out;
}

/** The cells of a table with one data row (`| agent | status | verdict |`, a rule, one row): keyed by column. */
function singleRowTable(lines: readonly string[]): Record<string, string> {
  const rows = lines.map((l) => TABLE_ROW_RE.exec(l));
  for (let i = 0; i + 2 < lines.length; i++) {
    if (!rows[i] || rows[i - 1] || !TABLE_RULE_RE.test(lines[i + 1]!) || !rows[i + 2] || rows[i + 3]) continue;
    const keys = rows[i]![1]!.split('|').map((c) => headerKey(c.replace(/[*_`]/g, '')));
    const cells = rows[i + 2]![1]!.split('|').map((c) => c.trim());
    if (keys.length !== cells.length) continue;
    return Object.fromEntries(keys.map((k, j) => [k, cells[j]!]).filter(([k]) => /^[a-z][a-z0-9_./-]*$/.test(k!)));
  }
  return {};
}

/**
 * Header `key: value` lines (keys lower-cased, first occurrence wins): those before the first
 * section heading, then those of a leading section and a one-row table there, for keys not yet
 * found. One reading for reports, proposals, reviews and validate.
 */
export function parseHeaderLines(md: string): Record<string, string> {
  const out: Record<string, string> = {};
  const region = headerRegion(md);
  for (const line of region) {
    const m = HEADER_LINE_RE.exec(line);
    if (!m) continue;
    const key = headerKey(m[1]!);
    if (!(key in out)) out[key] = m[2]!.replace(/^\*\*\s*/, '');
  }
  for (const [key, value] of Object.entries(singleRowTable(region))) if (!(key in out)) out[key] = value;
  return out;
}

export interface Section {
  title: string;
  body: string;
}

/** The level sections are at: `##`, or the shallowest deeper level when the file has no `##` heading. */
function sectionLevel(lines: readonly string[]): number {
  let level = 0;
  let fenced = false;
  for (const line of lines) {
    if (FENCE_RE.test(line)) fenced = !fenced;
    const m = fenced ? null : HEADING_RE.exec(line);
    if (m && (level === 0 || m[1]!.length < level)) level = m[1]!.length;
  }
  return level || 2;
}

/**
 * A title as agents' variations of it compare: `**4. Results:**`, `Results` and `results` are one.
 * Numbering (`4.`, `4)`, `IV.`), emphasis, a trailing colon, case and the spacing around `/`
 * (`Metric / Log Analysis`, the original templates' wording) do not count.
 */
export const titleKey = (title: string): string =>
  title
    .replace(/^[\s*_`]+|[\s*_`]+$/g, '')
    .replace(/^(?:\d+(?:\.\d+)*[.)]?|[ivxlc]+[.)])\s+/i, '')
    .replace(/[\s:]+$/, '')
    .replace(/^[\s*_`]+|[\s*_`]+$/g, '')
    .replace(/\s*\/\s*/g, '/')
    .replace(/\s+/g, ' ')
    .toLowerCase();

/** Sections (title as written → body, trimmed) in file order; deeper headings stay in the body. */
export function parseSections(md: string): Section[] {
  const lines = md.split(/\r?\n/);
  const level = sectionLevel(lines);
  const sections: Section[] = [];
  let current: { title: string; lines: string[] } | null = null;
  let fenced = false;
  for (const line of lines) {
    if (FENCE_RE.test(line)) fenced = !fenced;
    const m = fenced ? null : HEADING_RE.exec(line);
    if (m && m[1]!.length === level) {
      if (current) sections.push({ title: current.title, body: current.lines.join('\n').trim() });
      current = { title: m[2]!.replace(/\s+#+\s*$/, '').trim(), lines: [] };
    } else if (current) {
      current.lines.push(line);
    }
  }
  if (current) sections.push({ title: current.title, body: current.lines.join('\n').trim() });
  return sections;
}

/** Body of the first section with this title (compared by titleKey), or undefined. */
export function sectionBody(md: string | Section[], title: string): string | undefined {
  const sections = typeof md === 'string' ? parseSections(md) : md;
  const want = titleKey(title);
  return sections.find((s) => titleKey(s.title) === want)?.body;
}

/**
 * Required header keys and section titles that the file lacks (case-insensitive). A key written
 * as a pair (`model/version`, the original template's) has each of its names.
 */
export function missingParts(
  md: string,
  required: { headers?: readonly string[]; sections?: readonly string[] },
): string[] {
  const headers = new Set(Object.keys(parseHeaderLines(md)).flatMap((k) => [k, ...k.split('/')]));
  const titles = new Set(parseSections(md).map((s) => titleKey(s.title)));
  return [
    ...(required.headers ?? []).filter((h) => !headers.has(h)).map((h) => `header ${h}`),
    ...(required.sections ?? []).filter((s) => !titles.has(titleKey(s))).map((s) => `section ## ${s}`),
  ];
}

/** Whether a file counts as written for the artifact gate: a non-whitespace character (§3.2). */
export const hasContent = (text: string): boolean => /\S/.test(text);
