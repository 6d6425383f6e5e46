import { type FSWatcher, existsSync, watch } from 'node:fs';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionLabel } from '../../protocol/layout.js';

/**
 * An external reviewer played by the benchmark process, by the book of
 * skills/loop-station/references/external-reviewer.md: wait for READY, write RUNNING, the review
 * file, then DONE, each flag written elsewhere first and hard-linked into place.
 */

const flagsDir = (root: string, session: number) =>
  join(root, 'loop_station/flags', `session_${sessionLabel(session)}`);

/** Resolves when `dir/name` exists: fs.watch on the folder (created if missing), checked once more after arming. */
export function waitForFlag(dir: string, name: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | null = null;
    const done = (error?: Error) => {
      clearTimeout(timer);
      watcher?.close();
      if (error) reject(error);
      else resolve(performance.now());
    };
    const timer = setTimeout(
      () => done(new Error(`${name} did not appear in ${dir} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    void mkdir(dir, { recursive: true }).then(() => {
      watcher = watch(dir, (_event, file) => {
        if (file === name || existsSync(join(dir, name))) done();
      });
      if (existsSync(join(dir, name))) done();
    }, done);
  });
}

export class ExternalReviewer {
  constructor(
    private readonly root: string,
    private readonly token: string,
  ) {}

  readyFlag(session: number): { dir: string; name: string } {
    return {
      dir: flagsDir(this.root, session),
      name: `LOOP_STATION-SESSION${sessionLabel(session)}-SUPERVISOR-READY.flag`,
    };
  }

  supervisorDone(session: number): { dir: string; name: string } {
    return {
      dir: flagsDir(this.root, session),
      name: `LOOP_STATION-SESSION${sessionLabel(session)}-SUPERVISOR-DONE.flag`,
    };
  }

  reviewPath(session: number): string {
    return `loop_station/reviews/session_${sessionLabel(session)}/${this.token}-SESSION${sessionLabel(session)}-REVIEWER-DONE.md`;
  }

  /** Creates the flag exactly once (body under a dot-name, then a hard link into place); returns when it became visible. */
  async flag(session: number, status: 'RUNNING' | 'DONE', artifact?: string): Promise<number> {
    const label = sessionLabel(session);
    const dir = flagsDir(this.root, session);
    const body = [
      `timestamp: ${new Date().toISOString()}`,
      `producer: ${this.token}`,
      'role: REVIEWER',
      `session: ${label}`,
      `status: ${status}`,
      ...(artifact ? [`artifact: ${artifact}`] : []),
      `next: ${status === 'DONE' ? 'LOOP_STATION' : '-'}`,
      '',
    ].join('\n');
    const temp = join(dir, `.pending-${this.token}-${status}-${process.pid}`);
    await writeFile(temp, body);
    await link(temp, join(dir, `${this.token}-SESSION${label}-REVIEWER-${status}.flag`));
    const visible = performance.now();
    await unlink(temp);
    return visible;
  }

  async writeReview(session: number): Promise<string> {
    const rel = this.reviewPath(session);
    await mkdir(join(this.root, rel, '..'), { recursive: true });
    const sections = [
      'Evidence Checked',
      'Audit Methods Used',
      'Visual Image Check',
      'Metric/Log Analysis',
      'Historical Trend / Log Digest For Executor',
      'Scientific/Literature Challenge',
      'Code/Config Audit',
      'Verdict',
      'Promote/Keep/Retire',
      'Risks Or Confounds',
      'Recommended Next Action',
    ];
    await writeFile(
      join(this.root, rel),
      [
        '# Review',
        '',
        `agent: ${this.token}`,
        'model: bench',
        'instruction_profile: loop-station/reviewer',
        'role: REVIEWER',
        `session: ${sessionLabel(session)}`,
        'status: DONE',
        'verdict: supported',
        'recommendation: promote',
        'blocked_reason: none',
        '',
        ...sections.flatMap((s) => [`## ${s}`, 'n/a', '']),
      ].join('\n'),
    );
    return rel;
  }
}
