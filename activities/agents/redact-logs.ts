import { lstat, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../flags.js';
import { resolveInRoot } from '../paths.js';
import type { Redactor } from './redact.js';

/**
 * Redacts a finished run's logs where they lie (docs/architecture.md#secrets). The evidence pack and
 * the prompts point the next agents at these files, and an agent's provider reads what they hold, so
 * a secret the run printed is replaced by `[redacted:<NAME>]` as soon as the run ends, before any
 * other agent runs. In place rather than beside a redacted copy: an agent can open any file under the
 * root, and the marker still tells the user which variable was printed, everything else kept as it was.
 * A log rewritten goes through a temp file and a rename: a process the run left behind keeps writing
 * to the old file, never to the redacted one. Paths are root-relative; a missing log is skipped.
 */
export async function redactLogs(root: string, paths: readonly string[], redact: Redactor): Promise<void> {
  for (const path of new Set(paths)) {
    const abs = resolveInRoot(root, path);
    try {
      if (!(await lstat(abs)).isFile()) continue;
    } catch {
      continue;
    }
    const bytes = await readFile(abs);
    // Text that is not UTF-8 is read byte for byte, so rewriting it changes nothing but the secrets.
    const utf8 = bytes.toString('utf8');
    const text = Buffer.from(utf8, 'utf8').equals(bytes) ? utf8 : bytes.toString('latin1');
    const redacted = redact(text);
    if (redacted === text) continue;
    await writeFileAtomic(root, path, Buffer.from(redacted, text === utf8 ? 'utf8' : 'latin1'));
  }
}
