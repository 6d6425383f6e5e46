import { readFile } from 'node:fs/promises';
import { describe, expect, inject, test } from 'vitest';

/** The bundle's modules by id (`./workflows/loop.ts`, `./node_modules/zod/…`) with their code. */
function modulesOf(code: string): Map<string, string> {
  const parts = code.split(/^\/\*\*\*\/ "([^"]+)"$/m);
  const modules = new Map<string, string>();
  for (let i = 1; i < parts.length; i += 2) modules.set(parts[i]!, parts[i + 1]!);
  return modules;
}

/** Module ids that `body` loads when it is itself loaded (ES imports), not on a later call. */
const eagerImports = (body: string) =>
  [...body.matchAll(/^\/\* harmony import \*\/ var \w+ = __webpack_require__\([^)]*"([^"]+)"\)/gm)].map((m) => m[1]!);

/**
 * The bundle every integration test runs on (test/global-setup.ts builds it like a worker does).
 * Each workflow instantiates every module it loads; zod alone is ~0.8 MB of heap per workflow, so
 * the workflows reach it only through workflows/message-schemas.ts, when a message arrives.
 */
describe('the workflow bundle', () => {
  test('loads zod and the message schemas lazily, never when a workflow starts', async () => {
    const modules = modulesOf(await readFile(inject('workflowBundlePath'), 'utf8'));
    expect(modules.has('./workflows/loop.ts')).toBe(true);
    expect(modules.has('./protocol/schemas/messages.ts')).toBe(true);
    const ours = [...modules].filter(([id]) => /^\.\/(workflows|protocol)\//.test(id));
    const eagerZodOrSchemas = ours
      .filter(([id]) => id !== './protocol/schemas/messages.ts')
      .flatMap(([id, body]) =>
        eagerImports(body)
          .filter((dep) => dep.startsWith('./node_modules/zod/') || dep === './protocol/schemas/messages.ts')
          .map((dep) => `${id} -> ${dep}`),
      );
    expect(eagerZodOrSchemas).toEqual([]);
    expect(modules.get('./workflows/message-schemas.ts')).toMatch(
      /__webpack_require__\([^)]*"\.\/protocol\/schemas\/messages\.ts"\)/,
    );
  });

  test('holds no Markdown parser: summaries and reports are rendered in activities and the CLI', async () => {
    const modules = modulesOf(await readFile(inject('workflowBundlePath'), 'utf8'));
    expect(
      [...modules.keys()].filter((id) => /markdown-it|\/protocol\/markdown-(parser|html|source|digest)\.ts$/.test(id)),
    ).toEqual([]);
  });
});
