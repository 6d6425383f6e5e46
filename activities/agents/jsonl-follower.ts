import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reads a JSONL file while another process appends to it: each `poll()` hands every complete new
 * line, parsed, to `onEvent`. Lines that are not JSON objects (warnings printed to stdout) are skipped.
 */
export interface JsonlFollower {
  /** Reads what was appended since the last poll; returns how many events it handed over. */
  poll(): number;
  /** Reads the rest, including a last line without a newline, and closes the file. */
  close(): number;
}

const CHUNK = 64 * 1024;

/** `startOffset`: where the stream of interest begins (a log appended to by earlier runs). */
export function followJsonl(
  path: string,
  onEvent: (event: Record<string, unknown>) => void,
  startOffset = 0,
): JsonlFollower {
  let fd: number | undefined;
  let offset = startOffset;
  let pending = '';
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.alloc(CHUNK);

  const emit = (line: string): number => {
    const text = line.trim();
    if (!text.startsWith('{')) return 0;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return 0;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return 0;
    onEvent(value as Record<string, unknown>);
    return 1;
  };

  const read = (): number => {
    if (fd === undefined) {
      try {
        fd = openSync(path, 'r');
      } catch {
        return 0;
      }
    }
    const size = fstatSync(fd).size;
    while (offset < size) {
      const n = readSync(fd, buffer, 0, Math.min(CHUNK, size - offset), offset);
      if (n === 0) break;
      offset += n;
      pending += decoder.write(buffer.subarray(0, n));
    }
    let count = 0;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      count += emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    return count;
  };

  return {
    poll: read,
    close: () => {
      let count = read();
      pending += decoder.end();
      if (pending !== '') count += emit(pending);
      pending = '';
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      return count;
    },
  };
}
