import { type ActingRole, ROLE_STATUSES } from '../flag-name.js';
import { flagsRoot, parseSessionLabel, sessionLabel } from '../layout.js';
import type { AgentConfig, LoopConfig } from '../schemas/loop-config.js';
import { REVIEW_FLAG_FORMAT } from '../schemas/contract.js';
import { AGENT_TOKEN_RE, BUILTIN_SUPERVISOR, ROLES, STATUSES } from '../vocabulary.js';
import { bullets, parseFirstTable, renderTable } from './table.js';

/** agent_roster.md (docs/protocol.md#layout): who plays which role, and how flags are named and found. */

export interface RosterEntry {
  agent: string;
  model: string;
  profile: string;
  role: ActingRole;
  required: boolean;
  /** First session the entry applies to (0 = from the lock). */
  session: number;
  status: 'active' | 'removed';
  notes: string;
}

const HEADER = [
  'agent',
  'model/version',
  'instruction profile',
  'role',
  'required',
  'session',
  'status',
  'notes',
] as const;

function entryOf(agent: AgentConfig, role: ActingRole, session: number, notes: string): RosterEntry {
  return {
    agent: agent.token,
    model: agent.model ?? `${agent.kind} default`,
    profile: `loop-station/${role.toLowerCase()}${agent.instructions ? ' + spec instructions' : ''}`,
    role,
    required: role !== 'REVIEWER' || agent.required,
    session,
    status: 'active',
    notes,
  };
}

/** The roster a loop config implies, as of `session`. */
export function rosterFromConfig(config: LoopConfig, session = 0): RosterEntry[] {
  const supervisor: RosterEntry = config.supervisor
    ? entryOf(config.supervisor, 'SUPERVISOR', session, `${config.supervisor.kind} adapter`)
    : {
        agent: BUILTIN_SUPERVISOR,
        model: 'builtin rules',
        profile: 'docs/protocol.md#built-in-supervisor',
        role: 'SUPERVISOR',
        required: true,
        session,
        status: 'active',
        notes: 'built-in supervisor',
      };
  return [
    entryOf(config.executor, 'EXECUTOR', session, `${config.executor.kind} adapter`),
    supervisor,
    ...config.reviewers.map((r) =>
      entryOf(r, 'REVIEWER', session, r.kind === 'external' ? 'external: writes its own flags' : `${r.kind} adapter`),
    ),
  ];
}

export function renderAgentRoster(entries: readonly RosterEntry[]): string {
  return [
    '# Agent Roster',
    '',
    renderTable(
      HEADER,
      entries.map((e) => [
        e.agent,
        e.model,
        e.profile,
        e.role,
        e.required ? 'yes' : 'no',
        sessionLabel(e.session),
        e.status,
        e.notes,
      ]),
    ),
    '',
    '## Flag Format',
    '',
    `\`${REVIEW_FLAG_FORMAT}.flag\` in \`${flagsRoot}/session_NNN/\`; repeats end \`-k\` (HEARTBEAT, VIOLATION, REPAIRED, SUPERVISOR-TIMEOUT).`,
    'Bodies are `key: value` lines: timestamp, producer, role, session, status, then seq, writer, artifact, expect, wait, next, code, subject, repairs, decision, reason, note.',
    '',
    '## Signal Discovery',
    '',
    `Only flag files in \`${flagsRoot}/session_NNN/\` are signals, watched by file events plus a 5 s poll. A review file in reviews/ stands in for a missing terminal flag only in original folders.`,
    '',
    '## Allowed Roles',
    '',
    bullets(ROLES.map((r) => (r === 'TESTER' ? 'TESTER (read as REVIEWER; the engine writes REVIEWER)' : r))),
    '',
    '## Allowed Statuses',
    '',
    bullets((Object.keys(ROLE_STATUSES) as ActingRole[]).map((role) => `${role}: ${ROLE_STATUSES[role].join(', ')}`)),
    '',
    `All statuses: ${STATUSES.join(', ')}.`,
    '',
  ].join('\n');
}

export interface ParsedRoster {
  entries: RosterEntry[];
  problems: string[];
}

const plain = (cell: string | undefined): string => (cell ?? '').replace(/[`*]/g, '').trim();

/** `REVIEWER`, also the original's `TESTER` and `ANALYST`; undefined for anything else. */
function actingRoleOf(text: string): ActingRole | undefined {
  const upper = text.toUpperCase();
  if (upper === 'TESTER' || upper === 'ANALYST') return 'REVIEWER';
  return upper === 'EXECUTOR' || upper === 'SUPERVISOR' || upper === 'REVIEWER' ? upper : undefined;
}

/**
 * Reads the table back; lenient about columns and values so original rosters load too: cells as
 * code spans, and one row giving an agent several roles (`EXECUTOR, SUPERVISOR`), an entry each.
 */
export function parseAgentRoster(md: string): ParsedRoster {
  const table = parseFirstTable(md);
  if (!table) return { entries: [], problems: ['no roster table'] };
  const columns = table.header.map((h) => plain(h).toLowerCase());
  const col = (...names: string[]) => columns.findIndex((c) => names.some((n) => c.includes(n)));
  const [iAgent, iRole, iRequired, iSession, iStatus] = [
    col('agent', 'name'),
    col('role'),
    col('required'),
    col('session'),
    col('status'),
  ];
  if (iAgent < 0 || iRole < 0)
    return { entries: [], problems: [`roster header ${table.header.join(', ')} lacks agent or role`] };
  const entries: RosterEntry[] = [];
  const problems: string[] = [];
  table.rows.forEach((cells, i) => {
    const get = (j: number) => (j < 0 ? '' : plain(cells[j]));
    const roleTexts = get(iRole)
      .split(/\s*(?:,|\/|\+|&|\band\b)\s*/i)
      .filter(Boolean);
    const roles = roleTexts.map(actingRoleOf);
    if (!roles.length || roles.some((r) => r === undefined)) {
      problems.push(`row ${i + 1}: role ${get(iRole)} is not EXECUTOR, SUPERVISOR or REVIEWER`);
      return;
    }
    const agent = get(iAgent).toUpperCase();
    if (!AGENT_TOKEN_RE.test(agent)) {
      problems.push(
        `row ${i + 1}: agent ${get(iAgent)} is no agent token (${AGENT_TOKEN_RE.source}): its flags cannot name it`,
      );
      return;
    }
    const requiredText = get(iRequired).toLowerCase();
    const session = parseSessionLabel(get(iSession)) ?? (/^\d+$/.test(get(iSession)) ? Number(get(iSession)) : 0);
    roles.forEach((role, k) => {
      entries.push({
        agent,
        model: get(col('model')),
        profile: get(col('profile')),
        role: role!,
        required:
          roleTexts[k]!.toUpperCase() === 'ANALYST' ? false : !['no', 'false', 'optional'].includes(requiredText),
        session,
        status: ['removed', 'retired', 'inactive'].includes(get(iStatus).toLowerCase()) ? 'removed' : 'active',
        notes: get(col('notes')),
      });
    });
  });
  return { entries, problems };
}
