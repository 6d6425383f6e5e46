import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Watches a loop's flag folders from outside (polling, so nothing is missed while a worker is
 * down) and keeps the bytes of every flag as first seen: at the end, a flag whose bytes changed was
 * overwritten, one that is gone was deleted. Flags are append-only (docs/protocol.md#append-only).
 */
export class FlagTracker {
  readonly first = new Map<string, Buffer>();
  /** Names in the order they were first seen. */
  readonly order: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private readonly dir: string;

  constructor(
    root: string,
    private readonly everyMs = 20,
  ) {
    this.dir = join(root, 'loop_station/flags');
  }

  start(): void {
    this.timer = setInterval(() => {
      this.scanning ??= this.scan().finally(() => {
        this.scanning = null;
      });
    }, this.everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
    await this.scan();
  }

  get count(): number {
    return this.order.length;
  }

  get last(): string | null {
    return this.order[this.order.length - 1] ?? null;
  }

  /** Resolves once more than `count` flags have been seen. */
  async waitBeyond(count: number, timeoutMs: number, stopWaiting: () => boolean = () => false): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count <= count && !stopWaiting()) {
      if (Date.now() > deadline) throw new Error(`no new flag within ${timeoutMs} ms (last: ${this.last ?? 'none'})`);
      await new Promise((r) => setTimeout(r, this.everyMs));
    }
  }

  private async scan(): Promise<void> {
    for (const session of await readdir(this.dir).catch(() => [] as string[])) {
      const sessionDir = join(this.dir, session);
      for (const name of await readdir(sessionDir).catch(() => [] as string[])) {
        const rel = `${session}/${name}`;
        if (name.startsWith('.') || this.first.has(rel)) continue;
        const bytes = await readFile(join(sessionDir, name)).catch(() => null);
        if (bytes === null) continue;
        this.first.set(rel, bytes);
        this.order.push(rel);
      }
    }
  }

  /** Flags whose bytes differ now from when first seen, and flags that disappeared. */
  async audit(): Promise<{ overwritten: string[]; vanished: string[] }> {
    const overwritten: string[] = [];
    const vanished: string[] = [];
    for (const [rel, bytes] of this.first) {
      const now = await readFile(join(this.dir, rel)).catch(() => null);
      if (now === null) vanished.push(rel);
      else if (!now.equals(bytes)) overwritten.push(rel);
    }
    return { overwritten, vanished };
  }
}
