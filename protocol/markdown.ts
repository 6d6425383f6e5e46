/**
 * Minimal Markdown reading for the artifacts agents write (reports, proposals, reviews): header
 * lines before the first section and `## Title` sections. Nothing else of Markdown matters here.
 * Agents title sections as they title anything: a file whose sections are all `###` (under a `#`
 * title) has them at that level, and `## 4. Results:` is the section Results.
 */

const HEADER_LINE_RE = /^\s*(?:[-*]\s+)?(?:\*\*)?([A-Za-z][A-Za-z0-9_ ./-]*?)(?:\*\*)?\s*:\s*(.*?)\s*$/;
const HEADING_RE = /^(#{2,6})[ \t]+(\S.*)$/;
const FENCE_RE = /^\s{0,3}(?:```|~~~)/;

/** `key: value` lines before the first section heading; keys lower-cased, first occurrence wins. */
export function parseHeaderLines(md: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of md.split(/\r?\n/)) {
    if (HEADING_RE.test(line)) break;
    if (line.startsWith('# ') || line.startsWith('```')) continue;
    const m = HEADER_LINE_RE.exec(line);
    if (!m) continue;
    const key = m[1]!.trim().toLowerCase().replace(/\s+/g, '_');
    if (!(key in out)) out[key] = m[2]!.replace(/^\*\*\s*/, '');
  }
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
 * Numbering (`4.`, `4)`, `IV.`), emphasis, a trailing colon and case do not count.
 */
export const titleKey = (title: string): string =>
  title
    .replace(/^[\s*_`]+|[\s*_`]+$/g, '')
    .replace(/^(?:\d+(?:\.\d+)*[.)]?|[ivxlc]+[.)])\s+/i, '')
    .replace(/[\s:]+$/, '')
    .replace(/^[\s*_`]+|[\s*_`]+$/g, '')
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

/** Required header keys and section titles that the file lacks (case-insensitive). */
export function missingParts(
  md: string,
  required: { headers?: readonly string[]; sections?: readonly string[] },
): string[] {
  const headers = parseHeaderLines(md);
  const titles = new Set(parseSections(md).map((s) => titleKey(s.title)));
  return [
    ...(required.headers ?? []).filter((h) => !(h in headers)).map((h) => `header ${h}`),
    ...(required.sections ?? []).filter((s) => !titles.has(titleKey(s))).map((s) => `section ## ${s}`),
  ];
}

/** Whether a file counts as written for the artifact gate: a non-whitespace character (§3.2). */
export const hasContent = (text: string): boolean => /\S/.test(text);
