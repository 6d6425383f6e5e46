import { parseSessionFolder } from '../layout.js';
import type { BuildReportOptions, PictureColumn, ReportData, ReportFiles, ReportImage } from './model.js';

/**
 * Evidence images for the report: found per session, read (type and size from the header), embedded
 * as base64 data URIs within limits, and picked for the first / best / last comparison.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** RFC 4648 base64 with padding (protocol/ has no Buffer). */
export function bytesToBase64(bytes: Uint8Array): string {
  const out: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    chunk +=
      ALPHABET[a >> 2]! +
      ALPHABET[((a & 3) << 4) | ((b ?? 0) >> 4)]! +
      (b === undefined ? '=' : ALPHABET[((b & 15) << 2) | ((c ?? 0) >> 6)]!) +
      (c === undefined ? '=' : ALPHABET[c & 63]!);
    if (chunk.length >= 8192) {
      out.push(chunk);
      chunk = '';
    }
  }
  out.push(chunk);
  return out.join('');
}

export interface ImageInfo {
  mime: string;
  /** The bytes start like a PNG, GIF, JPEG or WebP: safe to embed. */
  recognized: boolean;
  width: number | null;
  height: number | null;
}

const MIME_BY_EXT: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

const u16be = (b: Uint8Array, i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
const u32be = (b: Uint8Array, i: number) =>
  (b[i] ?? 0) * 2 ** 24 + ((b[i + 1] ?? 0) << 16) + ((b[i + 2] ?? 0) << 8) + (b[i + 3] ?? 0);
const u16le = (b: Uint8Array, i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);

/** MIME type from the magic bytes (else the extension) and pixel size where the header gives it. */
export function imageInfo(bytes: Uint8Array, path: string): ImageInfo {
  const ext = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 24 && bytes[0] === 0x89 && ascii(1, 4) === 'PNG' && ascii(12, 16) === 'IHDR') {
    return { mime: 'image/png', recognized: true, width: u32be(bytes, 16), height: u32be(bytes, 20) };
  }
  if (bytes.length >= 10 && ascii(0, 4) === 'GIF8')
    return { mime: 'image/gif', recognized: true, width: u16le(bytes, 6), height: u16le(bytes, 8) };
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP')
    return { mime: 'image/webp', recognized: true, width: null, height: null };
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    // Walk JPEG segments to the first start-of-frame marker (C0–CF except C4, C8, CC).
    let i = 2;
    while (i + 9 < bytes.length && bytes[i] === 0xff) {
      const marker = bytes[i + 1]!;
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { mime: 'image/jpeg', recognized: true, width: u16be(bytes, i + 7), height: u16be(bytes, i + 5) };
      }
      i += 2 + u16be(bytes, i + 2);
    }
    return { mime: 'image/jpeg', recognized: true, width: null, height: null };
  }
  return { mime: MIME_BY_EXT[ext] ?? 'application/octet-stream', recognized: false, width: null, height: null };
}

const IMAGE_RE = /\.(png|jpe?g|gif|webp)$/i;

/** Session images: `sessions/session_NNN/**` (not runs/) and `code_variants/session_NNN/<slug>/evidence/**`. */
export function collectImages(files: ReportFiles, options: Required<BuildReportOptions>): Map<number, ReportImage[]> {
  const bySession = new Map<number, ReportImage[]>();
  let embedded = 0;
  const paths = Object.keys(files)
    .filter((p) => IMAGE_RE.test(p))
    .sort();
  for (const path of paths) {
    const inSession = /^loop_station\/sessions\/(session_\d+)\/(?!runs\/)(?:evidence\/)?(.+)$/.exec(path);
    const inVariant = /^(?:loop_station\/)?code_variants\/(session_\d+)\/[^/]+\/evidence\/(.+)$/.exec(path);
    const m = inSession ?? inVariant;
    const folder = m ? parseSessionFolder(m[1]!) : undefined;
    const bytes = files[path];
    if (!m || !folder || !(bytes instanceof Uint8Array)) continue;
    const info = imageInfo(bytes, path);
    const fits =
      info.recognized && bytes.length <= options.maxImageBytes && embedded + bytes.length <= options.maxEmbeddedBytes;
    const base64 = bytesToBase64(bytes);
    if (fits) embedded += bytes.length;
    const image: ReportImage = {
      session: folder.session,
      name: m[2]!,
      path,
      mime: info.mime,
      width: info.width,
      height: info.height,
      dataUri: fits ? `data:${info.mime};base64,${base64}` : null,
      fingerprint: base64,
    };
    const list = bySession.get(folder.session) ?? [];
    // A session's own evidence wins over a variant copy of the same name.
    if (!list.some((i) => i.name === image.name)) list.push(image);
    bySession.set(folder.session, list);
  }
  return bySession;
}

export function pictures(images: Map<number, ReportImage[]>, best: number | null): ReportData['pictures'] {
  const withImages = [...images.keys()].sort((a, b) => a - b);
  if (!withImages.length) return null;
  const first = withImages[0]!;
  const last = withImages.at(-1)!;
  const picks: [number, string][] = [[first, first === 0 ? 'baseline' : 'first']];
  if (best !== null && images.has(best)) picks.push([best, 'best']);
  picks.push([last, 'last']);
  const columns: PictureColumn[] = [];
  for (const [session, role] of picks) {
    const col = columns.find((c) => c.session === session);
    if (col) {
      if (!col.roles.includes(role)) col.roles.push(role);
    } else columns.push({ session, roles: [role] });
  }
  const names = [...new Set(columns.flatMap((c) => images.get(c.session)!.map((i) => i.name)))].sort();
  const rows = names.map((name) => {
    const cells = columns.map((c) => images.get(c.session)!.find((i) => i.name === name) ?? null);
    const identical = columns.length > 1 && cells.every((c) => c !== null && c.fingerprint === cells[0]!.fingerprint);
    return { name, cells, identical };
  });
  // Pictures that change between sessions first: they are the comparison.
  rows.sort((a, b) => Number(a.identical) - Number(b.identical));
  return { columns, rows };
}
