// What the scripted agents read and write under <root>/loop_station/ (docs/protocol.md#layout, #decisions, #code-variants).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const pad = (n) => String(n).padStart(3, '0');
export const isoNow = () => new Date().toISOString();
export const fmt = (v, digits = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : String(v));
export const signed = (v, digits = 3) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;

/** The agent environment contract (docs/loop-spec.md#agents); throws naming the missing variable. */
export function agentEnv(expectedRole) {
  const names = [
    'LOOP_STATION_ROLE',
    'LOOP_STATION_AGENT',
    'LOOP_STATION_SESSION',
    'LOOP_STATION_ROOT',
    'LOOP_STATION_SESSION_DIR',
    'LOOP_STATION_OUTPUT',
  ];
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length > 0)
    throw new Error(
      `missing environment: ${missing.join(', ')}\n  fix: run me through loop-station or examples/denoise-psnr/dry-run.mjs, which set the agent environment`,
    );
  const e = process.env;
  if (e.LOOP_STATION_ROLE !== expectedRole)
    throw new Error(`LOOP_STATION_ROLE is ${e.LOOP_STATION_ROLE}, expected ${expectedRole}`);
  return {
    agent: e.LOOP_STATION_AGENT,
    session: Number(e.LOOP_STATION_SESSION),
    root: path.resolve(e.LOOP_STATION_ROOT),
    sessionDir: e.LOOP_STATION_SESSION_DIR,
    output: e.LOOP_STATION_OUTPUT,
    promptFile: e.LOOP_STATION_PROMPT_FILE ?? null,
  };
}

/** The prompt arrives on stdin; read it so the writer never blocks (and ignore a terminal). */
export async function readStdin() {
  if (process.stdin.isTTY) return '';
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export function readText(root, rel) {
  const file = path.join(root, rel);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}

export function readJson(root, rel) {
  const text = readText(root, rel);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Writes through a temporary file and a rename, so a watcher never sees half a file. */
export function writeText(root, rel, text) {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export function sha256(bytes) {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** `key: value` lines before the first `## ` heading. */
export function parseHeader(text) {
  const header = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) break;
    const m = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line);
    if (m) header[m[1]] = m[2].trim();
  }
  return header;
}

/** The body of `## <title>` up to the next `## ` heading; null when absent. */
export function section(text, title) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim().toLowerCase() === `## ${title}`.toLowerCase());
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim();
}

/** The fenced `loop-station-decision` block of a decision.md as an object (`null` values kept as null). */
function parseDecision(text) {
  const m = /```loop-station-decision\n([\s\S]*?)```/.exec(text);
  if (!m) return null;
  const block = {};
  for (const line of m[1].split('\n')) {
    const kv = /^([a-z_]+):\s*(.*)$/.exec(line.trim());
    if (kv) block[kv[1]] = kv[2] === 'null' ? null : kv[2];
  }
  return block;
}

export function readDecision(root, session) {
  if (session < 1) return null;
  const text = readText(root, `loop_station/sessions/session_${pad(session)}/decision.md`);
  return text === null ? null : parseDecision(text);
}

/** RFC 4180 CSV with a header row, as rows of objects. */
function parseCsv(text) {
  const rows = [];
  let field = '';
  let row = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [head, ...body] = rows.filter((r) => r.length > 1 || r[0] !== '');
  return head ? body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? '']))) : [];
}

export function readLeaderboard(root) {
  const text = readText(root, 'loop_station/leaderboard.csv') ?? readText(root, 'leaderboard.csv');
  return text === null ? [] : parseCsv(text);
}

const CRITERION_RE = /^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/;

export function parseCriterion(text) {
  const m = CRITERION_RE.exec(text);
  return m ? { metric: m[1], op: m[2], value: Number(m[3]), text: text.trim() } : null;
}

export function criterionHolds(c, v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  return {
    '>=': v >= c.value,
    '>': v > c.value,
    '<=': v <= c.value,
    '<': v < c.value,
    '==': v === c.value,
    '!=': v !== c.value,
  }[c.op];
}

/** The frame the engine locked (contract.json), with this example's defaults when it is absent. */
export function readFrame(root) {
  const contract = readJson(root, 'loop_station/contract.json');
  const protection = contract?.goal?.protection_criteria ?? ['ssim >= 0.45'];
  return {
    fromContract: contract !== null,
    minDelta: contract?.decision_policy?.min_delta ?? 0.05,
    plateau: contract?.decision_policy?.plateau_sessions ?? 2,
    protection: protection.map(parseCriterion).filter(Boolean),
    maxSessions: contract?.budget?.max_sessions ?? null,
  };
}

/** Where the engine keeps a session's snapshot of a workspace or protected file (docs/protocol.md#code-variants). */
export function snapshotPath(session, file) {
  return session === 0
    ? `loop_station/code_variants/session_000/baseline/files/${file}`
    : `loop_station/code_variants/session_${pad(session)}/candidate/files/${file}`;
}

export const BASELINE_MANIFEST = 'loop_station/code_variants/session_000/baseline/manifest.json';
