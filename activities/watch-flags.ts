import { type FSWatcher, watch } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { CancelledFailure, Context } from '@temporalio/activity';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { flagsDir, reviewsDir } from '../protocol/layout.js';
import { parseFlagBody } from '../protocol/schemas/flag-body.js';
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
/**
 * A flag whose body is not whole yet (created empty with O_EXCL, its lines still coming) is relayed
 * at the writer's next change, or after this long at the latest: the workflow judges what it finds.
 * A review file (rewritten as the reviewer works) always waits this long for its writer.
 */
const SETTLE_MS = 30;

/** A HEARTBEAT flag (any `-k`): touched or rewritten in place, it is relayed again (docs/protocol.md#review-wait rule 4). */
const isHeartbeat = (name: string): boolean => /-HEARTBEAT(?:-\d+)?\.flag$/.test(name);

/**
 * A flag body is whole once its last line has ended and it names its producer and status (the
 * lines every flag has, docs/protocol.md#flag-bodies): a writer that created the file exclusively
 * and writes its body in one go is done; one that links a finished body into place always is.
 */
export const flagBodyWhole = (text: string): boolean => {
  if (!text.endsWith('\n')) return false;
  const { fields } = parseFlagBody(text);
  return fields.producer !== undefined && fields.status !== undefined;
};

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
  /** HEARTBEAT flags relayed, with the modification time they had: a newer one is relayed again. */
  const beats = new Map<string, number>();
  const mtimeOf = async (path: string) => (await stat(path).catch(() => null))?.mtimeMs ?? null;
  const pending = new Map<string, NodeJS.Timeout>();
  const relevant = (name: string): boolean => {
    // Dot files are writers' temp files (the flag writer links from one), never signals.
    if (name.startsWith('.')) return false;
    // Any other name in the flag folder, parsable or not, is news: the workflow judges it.
    return !name.endsWith('.md') || input.tokens.some((t) => name.startsWith(`${t}-SESSION`));
  };
  const signal = (name: string) => {
    handle.signal('externalFlag', { file: name, session: input.session }).catch((error: unknown) => {
      // The session closed (its review gate ended) before this watcher was cancelled: nobody is left to tell.
      if (error instanceof WorkflowNotFoundError) {
        ctx.log.debug('externalFlag not sent: the session has closed', { name });
        return;
      }
      ctx.log.warn('externalFlag signal failed; the poll will retry', { name, error: String(error) });
      seen.delete(name);
    });
  };
  const settle = (name: string) => {
    if (pending.has(name)) return;
    pending.set(
      name,
      setTimeout(() => {
        pending.delete(name);
        if (!name.endsWith('.md')) seen.set(name, 0);
        signal(name);
      }, SETTLE_MS),
    );
  };
  /**
   * A terminal flag's review file is read with the flag (readExternalFlags), so a relay of that
   * file still settling adds nothing; arriving while the session's task decides, it would only make
   * the task run again. A change after this one is relayed as usual.
   */
  const dropReviewRelay = (flag: string) => {
    const terminal = /^(.+)-SESSION\d+-REVIEWER-(DONE|BLOCKED|ABSTAIN)\.flag$/.exec(flag);
    if (!terminal) return;
    for (const [name, timer] of pending) {
      if (name.endsWith('.md') && name.startsWith(`${terminal[1]}-SESSION`)) {
        clearTimeout(timer);
        pending.delete(name);
      }
    }
  };
  const scan = async () => {
    for (const dir of dirs) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!relevant(name)) continue;
        if (name.endsWith('.md')) {
          const mtime = (await stat(`${dir}/${name}`).catch(() => null))?.mtimeMs ?? 0;
          if (seen.get(name) === mtime) continue;
          seen.set(name, mtime);
          settle(name);
          continue;
        }
        // Flags are append-only: a flag is news once (`seen` once relayed); a review file each time it
        // changes, and so is a HEARTBEAT the reviewer touches or rewrites in place: it is life.
        if (seen.has(name)) {
          if (!beats.has(name)) continue;
          const mtime = await mtimeOf(`${dir}/${name}`);
          if (mtime === null || mtime === beats.get(name)) continue;
          beats.set(name, mtime);
          settle(name);
          continue;
        }
        const mtime = isHeartbeat(name) ? await mtimeOf(`${dir}/${name}`) : null;
        // A file that cannot be read is relayed (after the settle), so readExternalFlags reports the fault.
        const text = await readFile(`${dir}/${name}`, 'utf8').catch(() => null);
        if (seen.has(name)) continue;
        if (text !== null && isEngineFlagBody(text)) {
          // The engine's own flags (its TIMEOUT for a reviewer, its VIOLATIONs) are whole when seen: it links them into place.
          seen.set(name, 0);
          continue;
        }
        if (mtime !== null) beats.set(name, mtime);
        if (text !== null && flagBodyWhole(text)) {
          seen.set(name, 0);
          clearTimeout(pending.get(name));
          pending.delete(name);
          signal(name);
          dropReviewRelay(name);
        } else settle(name);
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
