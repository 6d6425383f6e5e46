import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { sdk } from '../temporal-sdk.js';
import { limitsText } from '../../protocol/budget.js';
import { walkGlobs } from '../../protocol/glob-walk.js';
import { listUnder } from '../spec-globs.js';
import {
  candidateVariantDir,
  leaderboardPath,
  sessionFilePath,
  sessionLabel,
  summaryPath,
} from '../../protocol/layout.js';
import { parseDecisionBlock, parseRemainingBudget, type RemainingBudget } from '../../protocol/decision.js';
import { type LeaderboardRow, parseLeaderboard, renderLeaderboard } from '../../protocol/schemas/leaderboard.js';
import type { DecisionBlock } from '../../protocol/schemas/state.js';
import type { LoopConfig } from '../../protocol/schemas/loop-config.js';
import type { loopWorkflow } from '../../workflows/loop.js';
import type { LoopInput } from '../../workflows/loop-state.js';
import { LoopName, LoopPhaseKey, LoopSession } from '../../workflows/search-attributes.js';
import type { ConnectionFlags } from '../../server/connection-options.js';
import { type Connected, connect, loopId, uiLine, uiLink } from '../connect.js';
import { keepsItsId, priorRun } from '../prior-run.js';
import { ExitCode, ExitError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';

export interface ForkOptions extends ConnectionFlags {
  id: string;
  fromSession: number;
  name?: string | undefined;
  root?: string | undefined;
  redirect?: string | undefined;
  sessions?: number | undefined;
}

export interface ForkResult {
  workflowId: string;
  root: string;
  fromSession: number;
  sessions: number;
  /** The fork's budget: what session N's decision.md says was left of each (null = unlimited). */
  budget: RemainingBudget;
  ui: string;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  // `parentPath` from Node 20.12; `path` before it.
  return entries
    .filter((e) => e.isFile())
    .map((e) => join((e as { parentPath?: string }).parentPath ?? e.path, e.name));
}

/** SESSION_LEDGER.md as session N left it: the rows and interventions of later sessions left out. */
function ledgerAsOf(text: string, n: number): string {
  const later = (m: RegExpExecArray | null) => m !== null && Number(m[1]) > n;
  const lines = text
    .split('\n')
    .filter((l) => !later(/^\| (\d{3,}) \|/.exec(l)) && !later(/^- \S+ session (\d{3,}) /.exec(l)));
  const at = lines.indexOf('## Interventions');
  if (at >= 0 && !lines.slice(at + 1).some((l) => l.startsWith('- '))) lines.splice(at + 2, 0, '- none');
  return lines.join('\n');
}

const BASELINE_IS_BEST = 'the baseline (session 000), which a new loop on the original spec starts from';

/** The fork's budget: session N's remainder of each budget, `--sessions` replacing the session count. */
function forkBudget(
  sourceId: string,
  n: number,
  decision: string,
  decisionText: string,
  sessions: number | undefined,
): RemainingBudget {
  const { remaining, problems } = parseRemainingBudget(decisionText);
  if (!remaining) {
    throw new ExitError(
      ExitCode.failed,
      `${decision}: ## Remaining Budget: ${problems.join('; ')}\n` +
        `  fix: fork from another session of ${sourceId}, whose decision.md the engine wrote`,
    );
  }
  const spent = [
    remaining.wallClockMs === 0 && 'wall clock',
    remaining.tokens === 0 && 'tokens',
    remaining.costUsd === 0 && 'cost_usd',
  ].filter((b) => b !== false);
  if (spent.length) {
    throw new ExitError(
      ExitCode.failed,
      `${sourceId}: session ${sessionLabel(n)} left no ${spent.join(', ')} budget ` +
        `(${decision}, ## Remaining Budget): ` +
        'a fork would stop before its first session\n' +
        `  fix: fork from an earlier session, which had some left`,
    );
  }
  if (sessions === undefined && remaining.sessions === 0) {
    throw new ExitError(
      ExitCode.failed,
      `${sourceId}: session ${sessionLabel(n)} left no sessions (${decision}, ## Remaining Budget)\n` +
        `  fix: pass --sessions N to give the fork a session budget of its own`,
    );
  }
  return { ...remaining, sessions: sessions ?? remaining.sessions };
}

/**
 * Session N's code variant: its candidate. A session whose executor did not finish DONE has none
 * (leaderboard variant empty): we refuse instead of taking the best as of N, because FRAME.md and
 * the ledger record "forked from session N" with N's value, which another session's code would
 * make false, while forking from that best's session gives the same code with a true record.
 */
async function candidateFiles(
  sourceId: string,
  sourceRoot: string,
  n: number,
  block: DecisionBlock,
  rows: readonly LeaderboardRow[],
  cli: Connected['cli'],
): Promise<string> {
  const row = rows.find((r) => r.session === n);
  if (!row) {
    throw new ExitError(
      ExitCode.failed,
      `${sourceId}: session ${sessionLabel(n)} has no row in ${join(sourceRoot, leaderboardPath)}: ` +
        'it has not closed yet\n' +
        `  fix: wait for it to close, or fork from an earlier session (see \`${cli(`status ${sourceId}`)}\`)`,
    );
  }
  if (row.variant === null) {
    const best = block.best_session;
    const fix =
      best !== null && best > 0
        ? `fork from session ${sessionLabel(best)}, the best as of session ${sessionLabel(n)}: ` +
          `\`${cli(`fork ${sourceId} --from-session ${best}`)}\``
        : 'fork from a session whose executor finished DONE (its leaderboard row names a variant); ' +
          `the best as of session ${sessionLabel(n)} is ${best === 0 ? BASELINE_IS_BEST : 'none'}`;
    throw new ExitError(
      ExitCode.failed,
      `${sourceId}: session ${sessionLabel(n)} has no candidate variant: ` +
        `its executor did not finish DONE (decision ${block.class})\n` +
        `  fix: ${fix}`,
    );
  }
  const files = join(sourceRoot, candidateVariantDir(n), 'files');
  if (!(await exists(files))) {
    throw new ExitError(
      ExitCode.failed,
      `${files}: session ${sessionLabel(n)}'s candidate variant is missing\n` +
        `  fix: restore it from a backup, or fork from another session of ${sourceId}`,
    );
  }
  return files;
}

/**
 * Branches a loop from one of its closed sessions: a new root holding the old one's files with
 * session N's candidate as the workspace, the ledger, leaderboard and decision as session N left
 * them under forked_from/, and a new loop with what session N left of every budget; the original
 * keeps running untouched (the fork only reads its root).
 */
export async function forkCommand(options: ForkOptions, out: Output): Promise<ForkResult> {
  const conn = await connect(options);
  try {
    const sourceId = loopId(options.id);
    if ((await priorRun(conn, sourceId)) === undefined)
      throw new ExitError(
        ExitCode.failed,
        `no loop ${sourceId} in namespace ${conn.namespace}\n  fix: list loops with \`${conn.cli('list')}\``,
      );
    const history = await conn.client.workflow.getHandle(sourceId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = started?.input?.payloads?.[0];
    if (!payload)
      throw new ExitError(
        ExitCode.failed,
        `${sourceId}: its start input cannot be read\n  fix: check the id with \`${conn.cli('list')}\``,
      );
    const source = sdk().defaultPayloadConverter.fromPayload<LoopInput>(payload);
    const config: LoopConfig = source.config;
    const n = options.fromSession;
    if (!(await exists(join(config.root, 'loop_station'))))
      throw new ExitError(
        ExitCode.failed,
        `${sourceId}: there is no loop_station/ folder under its root ${config.root} on this machine: fork copies ` +
          "the loop's files from there\n  fix: run fork where the root is, or put the folder back at that path",
      );
    const decisionPath = join(config.root, sessionFilePath(n, 'decision'));
    const decisionText = await readFile(decisionPath, 'utf8').catch(() => null);
    const block = decisionText === null ? undefined : parseDecisionBlock(decisionText).block;
    if (!block || decisionText === null) {
      throw new ExitError(
        ExitCode.failed,
        `${sourceId}: session ${sessionLabel(n)} has no closed decision under ${config.root}\n` +
          `  fix: fork from a session that has closed (see \`${conn.cli(`status ${sourceId}`)}\`)`,
      );
    }
    const budget = forkBudget(sourceId, n, decisionPath, decisionText, options.sessions);
    const rows = parseLeaderboard(await readFile(join(config.root, leaderboardPath), 'utf8').catch(() => '')).rows;
    const candidate = await candidateFiles(sourceId, config.root, n, block, rows, conn.cli);
    const name = options.name ?? `${config.name}-fork-${sessionLabel(n)}`.slice(0, 63);
    // As submit's --id: `--name loop-x` is the loop loop-x, not loop-loop-x.
    const workflowId = loopId(name);
    const prior = await priorRun(conn, workflowId);
    if (prior && keepsItsId(prior))
      throw new ExitError(
        ExitCode.failed,
        `loop ${workflowId} ${prior.running ? 'is running' : `already ran (${prior.ended})`}: a fork needs an id ` +
          'of its own\n  fix: pass --name with a new name; nothing was copied',
      );
    const root = resolve(options.root ?? `${config.root}-fork-${sessionLabel(n)}`);
    if ((await exists(root)) && (await readdir(root)).length > 0) {
      throw new ExitError(
        ExitCode.failed,
        `${root} already exists and is not empty\n  fix: pass --root with a new folder`,
      );
    }
    // The old root's files (never its loop_station/), then session N's candidate over the workspace.
    await cp(config.root, root, {
      recursive: true,
      filter: (src) => !src.startsWith(join(config.root, 'loop_station')),
    });
    // Workspace files the candidate lacks go, as a restore would delete them; protected files stay.
    const inCandidate = new Set((await listFiles(candidate)).map((f) => f.slice(candidate.length + 1)));
    // With the matcher that chose the candidate's files (docs/patterns.md#older-variants).
    const manifestText = await readFile(join(dirname(candidate), 'manifest.json'), 'utf8').catch(() => '{}');
    const syntax =
      (JSON.parse(manifestText) as { pattern_syntax?: string }).pattern_syntax === 'picomatch' ? 'picomatch' : 'legacy';
    for (const file of await walkGlobs(listUnder(root), config.workspace, syntax)) {
      if (!inCandidate.has(file.path)) await rm(join(root, file.path));
    }
    await cp(candidate, root, { recursive: true });
    // The original's records as session N left them: a running original has written later sessions since.
    const keep = join(root, 'loop_station', 'forked_from');
    await mkdir(keep, { recursive: true });
    await writeFile(join(keep, 'decision.md'), decisionText);
    await writeFile(join(keep, 'leaderboard.csv'), renderLeaderboard(rows.filter((r) => r.session <= n)));
    const ledger = await readFile(join(config.root, summaryPath('sessionLedger')), 'utf8').catch(() => null);
    if (ledger !== null)
      await writeFile(join(keep, summaryPath('sessionLedger').split('/').pop()!), ledgerAsOf(ledger, n));
    const forked: LoopConfig = {
      ...config,
      name,
      root,
      budget: {
        ...config.budget,
        sessions: budget.sessions,
        wallClockMs: budget.wallClockMs,
        tokens: budget.tokens,
        costUsd: budget.costUsd,
      },
    };
    await conn.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId,
      taskQueue: started?.taskQueue?.name ?? config.taskQueue,
      args: [
        {
          config: forked,
          localFiles: source.localFiles ?? true,
          forkedFrom: { workflowId: sourceId, session: n, root: config.root, value: block.value },
          ...(options.redirect ? { redirects: [options.redirect] } : {}),
        },
      ],
      memo: {
        goal: forked.goal,
        metric: forked.evidence.metric,
        direction: forked.evidence.direction,
        root,
        sessions: budget.sessions,
        forkedFrom: `${sourceId}@${n}`,
      },
      typedSearchAttributes: [
        { key: LoopName, value: name },
        { key: LoopPhaseKey, value: 'framing' },
        { key: LoopSession, value: 0 },
      ],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
    const result = {
      workflowId,
      root,
      fromSession: n,
      sessions: budget.sessions,
      budget,
      ui: uiLink(conn.address, conn.namespace, workflowId),
    };
    if (!out.json)
      out.log(
        `forked ${sourceId} at session ${sessionLabel(n)} into ${root} (${limitsText(budget)})\n` +
          `  ${await uiLine(conn, result.ui)}`,
      );
    return emit(out, result, workflowId);
  } finally {
    await conn.close();
  }
}
