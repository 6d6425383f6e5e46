import { type FSWatcher, watch } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { CancelledFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { flagsDir, reviewsDir } from '../protocol/layout.js';
import { isEngineFlagBody } from './flags.js';
import { resolveInRoot } from './paths.js';

export interface WatchFlagsInput {
  root: string;
  session: number;
  readyAtMs: number;
  /** Tokens of the external reviewers: only their review files are news to the workflow (any agent's flag is). */
  tokens: string[];
}

/** The slow poll beside file events (docs/protocol.md#review-wait continuous_monitor: file events plus a 5 s poll). */
export const WATCH_POLL_MS = 5000;
/** Lets a writer finish its body before the workflow reads the flag. */
const SETTLE_MS = 30;

/**
 * One watcher per session with external reviewers: fs.watch on the session's flag and review
 * folders, plus a poll, signals `externalFlag {file}` to the session workflow for each new flag the
 * engine did not write and each new or changed review file of an external reviewer. A flag of an
 * agent outside the roster is relayed too: the workflow records it (FLAG_UNKNOWN_PRODUCER). Runs
 * until the workflow cancels it when the review gate closes.
 */
export async function watchFlags(client: Client, input: WatchFlagsInput): Promise<void> {
  const ctx = Context.current();
  const handle = client.workflow.getHandle(ctx.info.workflowExecution!.workflowId);
  const dirs = [flagsDir(input.session), reviewsDir(input.session)].map((d) => resolveInRoot(input.root, d));
  for (const dir of dirs) await mkdir(dir, { recursive: true });
  const seen = new Map<string, number>();
  const pending = new Map<string, NodeJS.Timeout>();
  const relevant = (name: string): boolean => {
    // Dot files are writers' temp files (the flag writer links from one), never signals.
    if (name.startsWith('.')) return false;
    // Any other name in the flag folder, parsable or not, is news: the workflow judges it.
    return !name.endsWith('.md') || input.tokens.some((t) => name.startsWith(`${t}-SESSION`));
  };
  // The engine's own flags (its TIMEOUT for a reviewer, its VIOLATIONs) are whole when seen: it links
  // them into place. A file that cannot be read is relayed, so readExternalFlags reports the fault.
  const writtenByEngine = async (path: string): Promise<boolean> =>
    isEngineFlagBody(await readFile(path, 'utf8').catch(() => ''));
  const send = (name: string) => {
    if (pending.has(name)) return;
    pending.set(
      name,
      setTimeout(() => {
        pending.delete(name);
        handle.signal('externalFlag', { file: name, session: input.session }).catch((error: unknown) => {
          ctx.log.warn('externalFlag signal failed; the poll will retry', { name, error: String(error) });
          seen.delete(name);
        });
      }, SETTLE_MS),
    );
  };
  const scan = async () => {
    for (const dir of dirs) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!relevant(name)) continue;
        const mtime = (await stat(`${dir}/${name}`).catch(() => null))?.mtimeMs ?? 0;
        if (seen.get(name) === mtime) continue;
        // Flags are append-only: a flag is news once; a review file each time it changes (a heartbeat).
        if (seen.has(name) && !name.endsWith('.md')) continue;
        seen.set(name, mtime);
        if (!name.endsWith('.md') && (await writtenByEngine(`${dir}/${name}`))) continue;
        send(name);
      }
    }
  };
  const watchers: FSWatcher[] = dirs.map((dir) =>
    watch(dir, () => {
      void scan();
    }),
  );
  try {
    await scan();
    const cancelled = ctx.cancelled.then(
      () => 'cancelled' as const,
      () => 'cancelled' as const,
    );
    for (;;) {
      ctx.heartbeat({ seen: seen.size });
      const woke = await Promise.race([cancelled, new Promise((r) => setTimeout(r, WATCH_POLL_MS))]);
      if (woke === 'cancelled') throw new CancelledFailure('review gate closed');
      await scan();
    }
  } finally {
    for (const w of watchers) w.close();
    for (const t of pending.values()) clearTimeout(t);
  }
}
