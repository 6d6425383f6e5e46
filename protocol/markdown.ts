/**
 * Minimal Markdown reading for the artifacts agents write (reports, proposals, reviews): header
 * lines before the first `## ` and `## Title` sections. Nothing else of Markdown matters here.
 */

const HEADER_LINE_RE = /^\s*(?:[-*]\s+)?(?:\*\*)?([A-Za-z][A-Za-z0-9_ ./-]*?)(?:\*\*)?\s*:\s*(.*?)\s*$/;

/** `key: value` lines before the first `## `; keys lower-cased, first occurrence wins. */
export function parseHeaderLines(md: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of md.split(/\r?\n/)) {
    if (line.startsWith('## ')) break;
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

/** `## Title` → body (trimmed), in file order; `###` and deeper stay in the body. */
export function parseSections(md: string): Section[] {
  const sections: Section[] = [];
  let current: { title: string; lines: string[] } | null = null;
  let fenced = false;
  for (const line of md.split(/\r?\n/)) {
    if (line.startsWith('```')) fenced = !fenced;
    if (!fenced && line.startsWith('## ')) {
      if (current) sections.push({ title: current.title, body: current.lines.join('\n').trim() });
      current = { title: line.slice(3).trim(), lines: [] };
    } else if (current) {
      current.lines.push(line);
    }
  }
  if (current) sections.push({ title: current.title, body: current.lines.join('\n').trim() });
  return sections;
}

/** Body of the first section with this title (case-insensitive), or undefined. */
export function sectionBody(md: string | Section[], title: string): string | undefined {
  const sections = typeof md === 'string' ? parseSections(md) : md;
  const want = title.toLowerCase();
  return sections.find((s) => s.title.toLowerCase() === want)?.body;
}

/** Required header keys and section titles that the file lacks (case-insensitive). */
export function missingParts(
  md: string,
  required: { headers?: readonly string[]; sections?: readonly string[] },
): string[] {
  const headers = parseHeaderLines(md);
  const titles = new Set(parseSections(md).map((s) => s.title.toLowerCase()));
  return [
    ...(required.headers ?? []).filter((h) => !(h in headers)).map((h) => `header ${h}`),
    ...(required.sections ?? []).filter((s) => !titles.has(s.toLowerCase())).map((s) => `section ## ${s}`),
  ];
}

/** Whether a file counts as written for the artifact gate: a non-whitespace character (§3.2). */
export const hasContent = (text: string): boolean => /\S/.test(text);
