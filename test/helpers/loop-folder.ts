import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLoopFolder } from '../../cli/commands/validate.js';
import type { LoopFolderSnapshot } from '../../protocol/validate.js';

/**
 * A fixture loop folder as validate reads it, modification times from its mtimes.json (path → ISO
 * time), else 0: a verdict must come from what the files say, not from when they were checked out.
 */
export async function fixtureSnapshot(dir: string): Promise<LoopFolderSnapshot> {
  const { snapshot } = await readLoopFolder(dir);
  const mtimesPath = join(dir, 'mtimes.json');
  const mtimes = (existsSync(mtimesPath) ? JSON.parse(readFileSync(mtimesPath, 'utf8')) : {}) as Record<string, string>;
  return Object.fromEntries(
    Object.entries(snapshot).map(([path, e]) => [path, { ...e, mtimeMs: mtimes[path] ? Date.parse(mtimes[path]) : 0 }]),
  );
}
