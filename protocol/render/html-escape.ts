/** Escaping for text put into HTML or SVG: element content and double-quoted attribute values. */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes `& < > " '`, so the text is inert in content and in quoted attributes. */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);
}

/** An href that stays inside the report's folder tree: relative paths only, each segment percent-encoded. */
export function relativeHref(path: string): string {
  return path
    .split('/')
    .map((seg) => (seg === '..' || seg === '.' ? seg : encodeURIComponent(seg)))
    .join('/');
}
