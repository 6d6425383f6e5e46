import { ensureTemporalBinary } from '../../server/temporal-binary.js';
import type { Output } from '../output.js';

/** `loop-station server ensure`: prints the path of a usable temporal binary, getting one if needed. */
export async function serverEnsureCommand(options: { json?: boolean }, out: Output): Promise<{ path: string; version: string; source: string }> {
  const binary = await ensureTemporalBinary({ log: (line) => out.log(line) });
  if (options.json) out.json_(binary);
  else {
    out.data(binary.path);
    out.log(`temporal ${binary.version} (${binary.source})`);
  }
  return binary;
}
