import { cp, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { globToRegExp } from '../../protocol/glob.js';
import { candidateVariantDir, sessionFilePath, sessionLabel, summaryPath } from '../../protocol/layout.js';
import { parseDecisionBlock } from '../../protocol/decision.js';
import type { LoopConfig } from '../../protocol/schemas/loop-config.js';
import type { loopWorkflow } from '../../workflows/loop.js';
import type { LoopInput } from '../../workflows/loop-state.js';
import { LoopName, LoopPhaseKey, LoopSession } from '../../workflows/search-attributes.js';
import type { ConnectionFlags } from '../../server/connection-options.js';
import { connect, loopId, uiLink } from '../connect.js';
import { ExitCode, ExitError } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface ForkOptions extends ConnectionFlags {
  id: string;
  fromSession: number;
  name?: string;
  root?: string;
  redirect?: string;
  sessions?: number;
  json?: boolean;
}

export interface ForkResult {
  workflowId: string;
  root: string;
  fromSession: number;
  sessions: number;
  ui: string;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  // `parentPath` from Node 20.12; `path` before it.
  return entries.filter((e) => e.isFile()).map((e) => join((e as { parentPath?: string }).parentPath ?? e.path, e.name));
}

/**
 * Branches a loop from one of its closed sessions: a new root holding the old one's files with
 * session N's candidate as the workspace, the old ledger and decision kept under forked_from/,
 * and a new loop with the remaining session budget; the original keeps running untouched.
 */
export async function forkCommand(options: ForkOptions, out: Output): Promise<ForkResult> {
  const conn = await connect(options);
  try {
    const sourceId = loopId(options.id);
    const history = await conn.client.workflow.getHandle(sourceId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = started?.input?.payloads?.[0];
    if (!payload) throw new ExitError(ExitCode.failed, `${sourceId}: its start input cannot be read\n  fix: check the id with \`loop-station list\``);
    const source = defaultPayloadConverter.fromPayload<LoopInput>(payload);
    const config: LoopConfig = source.config;
    const n = options.fromSession;
    const decisionText = await readFile(join(config.root, sessionFilePath(n, 'decision')), 'utf8').catch(() => null);
    const block = decisionText === null ? undefined : parseDecisionBlock(decisionText).block;
    if (!block) {
      throw new ExitError(ExitCode.failed, `${sourceId}: session ${sessionLabel(n)} has no closed decision under ${config.root}\n  fix: fork from a session that has closed (see \`loop-station status ${sourceId}\`)`);
    }
    const name = options.name ?? `${config.name}-fork-${sessionLabel(n)}`.slice(0, 63);
    const root = resolve(options.root ?? `${config.root}-fork-${sessionLabel(n)}`);
    if (await exists(root) && (await readdir(root)).length > 0) {
      throw new ExitError(ExitCode.failed, `${root} already exists and is not empty\n  fix: pass --root with a new folder`);
    }
    // The old root's files (never its loop_station/), then session N's candidate over the workspace.
    await cp(config.root, root, { recursive: true, filter: (src) => !src.startsWith(join(config.root, 'loop_station')) });
    const candidate = join(config.root, candidateVariantDir(n), 'files');
    if (await exists(candidate)) {
      // Workspace files the candidate lacks go, as a restore would delete them; protected files stay.
      const workspace = config.workspace.map(globToRegExp);
      const inCandidate = new Set((await listFiles(candidate)).map((f) => f.slice(candidate.length + 1)));
      for (const file of await listFiles(root)) {
        const rel = file.slice(root.length + 1);
        if (!rel.startsWith('loop_station/') && workspace.some((r) => r.test(rel)) && !inCandidate.has(rel)) await rm(file);
      }
      await cp(candidate, root, { recursive: true });
    }
    const keep = join(root, 'loop_station', 'forked_from');
    await mkdir(keep, { recursive: true });
    for (const rel of [summaryPath('sessionLedger'), sessionFilePath(n, 'decision'), 'loop_station/leaderboard.csv']) {
      const from = join(config.root, rel);
      if (await exists(from)) await cp(from, join(keep, rel.split('/').pop()!));
    }
    const sessions = options.sessions ?? Math.max(1, config.budget.sessions - n);
    const forked: LoopConfig = { ...config, name, root, budget: { ...config.budget, sessions } };
    const workflowId = `loop-${name}`;
    await conn.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId,
      taskQueue: started?.taskQueue?.name ?? config.taskQueue,
      args: [{
        config: forked,
        localFiles: source.localFiles ?? true,
        forkedFrom: { workflowId: sourceId, session: n, root: config.root, value: block.value },
        ...(options.redirect ? { redirects: [options.redirect] } : {}),
      }],
      memo: { goal: forked.goal, metric: forked.evidence.metric, direction: forked.evidence.direction, root, sessions, forkedFrom: `${sourceId}@${n}` },
      typedSearchAttributes: [{ key: LoopName, value: name }, { key: LoopPhaseKey, value: 'framing' }, { key: LoopSession, value: 0 }],
      workflowIdConflictPolicy: 'FAIL',
    });
    const result = { workflowId, root, fromSession: n, sessions, ui: uiLink(conn.address, conn.namespace, workflowId) };
    if (options.json) out.json_(result);
    else {
      out.data(workflowId);
      out.log(`forked ${sourceId} at session ${sessionLabel(n)} into ${root} (${sessions} sessions)\n  UI: ${result.ui}`);
    }
    return result;
  } finally {
    await conn.close();
  }
}
