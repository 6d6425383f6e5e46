import { sessionLabel } from './layout.js';
import type { FlagName } from './schemas/flag-name.js';
import { AGENT_TOKEN_RE, REPEATABLE_STATUSES, ROLES, STATUSES, type Role, type Status } from './vocabulary.js';

// Type only: this module is in the workflow bundle, which must not load zod (schemas/flag-name.ts).
export type { FlagName };

/** The three roles a flag acts in; TESTER is read as REVIEWER (§2.1). */
export type ActingRole = Exclude<Role, 'TESTER'>;
export const actingRole = (role: Role): ActingRole => (role === 'TESTER' ? 'REVIEWER' : role);

/** The strict grammar of §2.1. */
export const FLAG_NAME_RE = new RegExp(
  `^([A-Z0-9][A-Z0-9._]{0,31})-SESSION(\\d{3}|[1-9]\\d{3,})-(${ROLES.join('|')})-(${STATUSES.join('|')})(?:-([2-9]|[1-9]\\d+))?\\.flag$`,
);

/** Strict grammar of §2.1; `formatFlagName(parseFlagName(n)) === n` for every accepted name. */
export function parseFlagName(name: string): FlagName | undefined {
  const m = FLAG_NAME_RE.exec(name);
  if (!m) return undefined;
  return {
    agent: m[1]!,
    session: Number(m[2]),
    role: m[3] as Role,
    status: m[4] as Status,
    occurrence: m[5] ? Number(m[5]) : 1,
  };
}

/** `CLAUDE-SESSION007-REVIEWER-HEARTBEAT-3.flag`; throws on parts the grammar refuses. */
export function formatFlagName(flag: FlagName): string {
  if (!AGENT_TOKEN_RE.test(flag.agent))
    throw new RangeError(`agent token ${JSON.stringify(flag.agent)} must match ${AGENT_TOKEN_RE.source}`);
  if (!Number.isInteger(flag.occurrence) || flag.occurrence < 1)
    throw new RangeError(`flag occurrence must be an integer >= 1 (got ${flag.occurrence})`);
  const suffix = flag.occurrence === 1 ? '' : `-${flag.occurrence}`;
  return `${flag.agent}-SESSION${sessionLabel(flag.session)}-${flag.role}-${flag.status}${suffix}.flag`;
}

/** Only HEARTBEAT, VIOLATION, REPAIRED and SUPERVISOR-TIMEOUT repeat within a session (§2.3). */
export function isRepeatable(role: Role, status: Status): boolean {
  return REPEATABLE_STATUSES.includes(status) || (role === 'SUPERVISOR' && status === 'TIMEOUT');
}

/** Statuses each role writes (§2.1 table): the rest are refused as FLAG_NAME_INVALID. */
export const ROLE_STATUSES: Readonly<Record<ActingRole, readonly Status[]>> = {
  EXECUTOR: ['RUNNING', 'HEARTBEAT', 'DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT'],
  SUPERVISOR: ['RUNNING', 'HEARTBEAT', 'READY', 'DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT', 'VIOLATION', 'REPAIRED'],
  REVIEWER: ['STANDBY', 'RUNNING', 'HEARTBEAT', 'DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT'],
};

/** Key of (agent, role, status): the unit of repeats and duplicates (§2.3). */
export const flagKey = (f: Pick<FlagName, 'agent' | 'role' | 'status'>): string =>
  `${f.agent}|${actingRole(f.role)}|${f.status}`;

export interface NameIssue {
  code: 'FLAG_NAME_INVALID' | 'FLAG_ANONYMOUS' | 'LEGACY_FLAG_NAME';
  message: string;
}

export interface ReadFlagNameResult {
  /** Null when the name cannot be counted (invalid, anonymous, or role unknown). Role TESTER/ANALYST read as REVIEWER. */
  flag: FlagName | null;
  /** Whether the name is exactly §2.1. */
  strict: boolean;
  issues: NameIssue[];
  /** A legacy occurrence tag other than `-k` (`_2`, `-a`): ordered by time, renumbered by the reader. */
  occurrenceTag: string | null;
  /** Role ANALYST: an optional REVIEWER (§2.4). */
  optionalReviewer: boolean;
}

export interface ReadFlagNameOptions {
  /** Agent token → role, from agent_roster.md, for names without a role. */
  rosterRoles?: Readonly<Record<string, Role>>;
}

const LEGACY_EXT_RE = /\.(flag|md|txt|json|yaml|yml)$/i;
const STATUS_PREFIX_RE = new RegExp(`^(${STATUSES.join('|')})(?![A-Z])(.*)$`);
const isRole = (s: string): s is Role | 'ANALYST' => (ROLES as readonly string[]).includes(s) || s === 'ANALYST';

/** Lenient reading of §2.4: legacy forms come back as LEGACY_FLAG_NAME issues, bad names as errors. */
export function readFlagName(name: string, options: ReadFlagNameOptions = {}): ReadFlagNameResult {
  const strictFlag = parseFlagName(name);
  if (strictFlag) {
    return {
      flag: { ...strictFlag, role: actingRole(strictFlag.role) },
      strict: true,
      issues: [],
      occurrenceTag: null,
      optionalReviewer: false,
    };
  }
  const invalid = (code: NameIssue['code'], message: string): ReadFlagNameResult => ({
    flag: null,
    strict: false,
    issues: [{ code, message }],
    occurrenceTag: null,
    optionalReviewer: false,
  });
  const legacy: string[] = [];
  const ext = LEGACY_EXT_RE.exec(name);
  if (!ext) legacy.push('no .flag extension');
  else if (ext[0] !== '.flag') legacy.push(`extension ${ext[0]} instead of .flag`);
  const base = ext ? name.slice(0, -ext[0].length) : name;
  const upper = base.toUpperCase();

  const m = /^(.*?)-SESSION(_?)(\d+)-(.+)$/.exec(upper);
  if (!m) {
    if (/^-?SESSION_?\d+-/.test(upper)) return invalid('FLAG_ANONYMOUS', `${name} names no agent before -SESSION`);
    return invalid('FLAG_NAME_INVALID', `${name} does not read {AGENT}-SESSION{NNN}-{ROLE}-{STATUS}.flag`);
  }
  const [, agent = '', underscore = '', digits = '', rest = ''] = m;
  if (agent === '') return invalid('FLAG_ANONYMOUS', `${name} names no agent before -SESSION`);
  if (!AGENT_TOKEN_RE.test(agent))
    return invalid(
      'FLAG_NAME_INVALID',
      `${name}: agent token ${agent} must be 1-32 letters, digits, dots or underscores`,
    );
  const session = Number(digits);
  if (underscore || digits !== sessionLabel(session)) legacy.push(`session written SESSION${underscore}${digits}`);

  const parts = rest.split('-');
  let roleText: string | undefined;
  if (isRole(parts[0]!) && parts.length > 1 && STATUS_PREFIX_RE.test(parts[1]!)) roleText = parts.shift();
  const statusMatch = STATUS_PREFIX_RE.exec(parts.shift()!);
  if (!statusMatch) return invalid('FLAG_NAME_INVALID', `${name}: no known status (${STATUSES.join(', ')})`);
  const status = statusMatch[1] as Status;
  const tail = [statusMatch[2]!, ...parts].join('-');
  // Recover the original casing of the tail to tell `-2` from other tags.
  const rawTail = base.slice(base.length - tail.length);
  const head = base.slice(0, base.length - tail.length);
  // Listed right after the extension remark, if any, to read in name order.
  if (head !== head.toUpperCase()) legacy.splice(ext?.[0] === '.flag' ? 0 : 1, 0, 'lower case');
  let occurrence = 1;
  let occurrenceTag: string | null = null;
  if (tail !== '') {
    if (/\.[A-Za-z]{1,5}$/.test(rawTail))
      return invalid('FLAG_NAME_INVALID', `${name}: extension ${/\.[A-Za-z]+$/.exec(rawTail)![0]} is not a flag's`);
    const k = /^-([2-9]|[1-9]\d+)$/.exec(rawTail);
    if (k) occurrence = Number(k[1]);
    else {
      occurrenceTag = rawTail;
      legacy.push(`occurrence tag ${rawTail} instead of -k`);
    }
  }

  let role: Role;
  let optionalReviewer = false;
  if (roleText === undefined) {
    const fromRoster = options.rosterRoles?.[agent];
    if (fromRoster) {
      role = actingRole(fromRoster);
      legacy.push(`role missing (${role} from agent_roster.md)`);
    } else if (/^(REVIEWER|TESTER)/.test(agent)) {
      role = 'REVIEWER';
      legacy.push('role missing (REVIEWER from the agent name)');
    } else {
      return {
        flag: null,
        strict: false,
        occurrenceTag,
        optionalReviewer: false,
        issues: [
          {
            code: 'LEGACY_FLAG_NAME',
            message: `${name}: role missing and ${agent} is not in agent_roster.md: role UNKNOWN, flag not counted`,
          },
        ],
      };
    }
  } else if (roleText === 'ANALYST') {
    role = 'REVIEWER';
    optionalReviewer = true;
    legacy.push('role ANALYST (read as an optional REVIEWER)');
  } else {
    role = actingRole(roleText as Role);
  }
  const flag: FlagName = { agent, session, role, status, occurrence };
  if (legacy.length === 0)
    return invalid('FLAG_NAME_INVALID', `${name} does not read {AGENT}-SESSION{NNN}-{ROLE}-{STATUS}.flag`);
  const strictName =
    occurrenceTag === null
      ? formatFlagName(flag)
      : `${formatFlagName(flag).slice(0, -'.flag'.length)}[-k].flag, k by time`;
  return {
    flag,
    strict: false,
    issues: [{ code: 'LEGACY_FLAG_NAME', message: `${name}: ${legacy.join('; ')}; strict name ${strictName}` }],
    occurrenceTag,
    optionalReviewer,
  };
}
