import { mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Builds a temp tree from `{ 'path/file': 'content' }` (changesets' testdir); returns its real path. */
export async function testdir(tree: Record<string, string> = {}, prefix = 'loop-station-'): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  for (const [rel, content] of Object.entries(tree)) {
    const abs = join(dir, rel);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
  return dir;
}
