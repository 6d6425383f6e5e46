/** Markdown table cells: one line, `|` escaped, empty as `-` (docs/protocol.md#review-flags "empty cell -"). */

export function cell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '-';
  const text = String(value).replace(/\s+/g, ' ').trim();
  return text === '' ? '-' : text.replace(/\|/g, '\\|');
}

export function renderTable(
  header: readonly string[],
  rows: readonly (readonly (string | number | boolean | null | undefined)[])[],
): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map((r) => line(r.map(cell)))].join('\n');
}

/**
 * Splits a table line on unescaped `|`, unescaping cells; undefined for a line that is no table
 * row. As in GFM, the outer pipes are optional: `a | b` is a row of two cells.
 */
function splitTableRow(line: string): string[] | undefined {
  const t = line.trim();
  if (!/(^|[^\\])\|/.test(t)) return undefined;
  const cells: string[] = [];
  let current = '';
  for (let i = t.startsWith('|') ? 1 : 0; i < t.length; i++) {
    const ch = t[i]!;
    if (ch === '\\' && t[i + 1] === '|') {
      current += '|';
      i++;
    } else if (ch === '|') {
      cells.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim() !== '') cells.push(current.trim());
  return cells;
}

const isDelimiterRow = (cells: readonly string[] | undefined): boolean =>
  cells !== undefined && cells.length > 0 && cells.every((c) => /^:?-{3,}:?$/.test(c));

/**
 * The first table in `md` as header + rows (separator line dropped); cells as written. A table
 * starts at a line led by `|`, or at any line with a `|` that a delimiter row (`--- | ---`)
 * follows (GFM); it ends at the first line that is no row.
 */
export function parseFirstTable(md: string): { header: string[]; rows: string[][] } | undefined {
  const lines = md.split(/\r?\n/);
  const start = lines.findIndex(
    (l, i) =>
      l.trim().startsWith('|') || (splitTableRow(l) !== undefined && isDelimiterRow(splitTableRow(lines[i + 1] ?? ''))),
  );
  if (start < 0) return undefined;
  const header = splitTableRow(lines[start]!)!;
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    const cells = splitTableRow(line);
    if (!cells) break;
    if (isDelimiterRow(cells)) continue;
    rows.push(cells);
  }
  return { header, rows };
}

/**
 * A Markdown bullet list, or `- none`. An item of several lines (a digest with a list or a code
 * block) keeps them, indented under its bullet so they stay inside it (docs/markdown.md).
 */
export function bullets(items: readonly string[], none = 'none'): string {
  return (items.length ? items : [none]).map((i) => `- ${i.replace(/\n(?!\n)/g, '\n  ')}`).join('\n');
}

/** `label: text` for one line; for several, the text follows a blank line, so its first block (a table, a list) starts clean. */
export const labelled = (label: string, text: string): string =>
  text.includes('\n') ? `${label}:\n\n${text}` : `${label}: ${text}`;

/** Numbers as JSON writes them; null as `-` (or the given text). */
export function num(value: number | null | undefined, none = '-'): string {
  return value === null || value === undefined ? none : String(value);
}
