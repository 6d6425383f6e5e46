import type { z } from 'zod';
import type * as MessageSchemaModule from '../protocol/schemas/messages.js';

let loaded: typeof MessageSchemaModule | undefined;

/**
 * The human messages' zod schemas, loaded the first time a loop gets a message rather than when a
 * workflow starts. In the SDK's reusable V8 context each workflow instantiates every module it
 * imports, and zod's module scope (~170 schema classes with their accessors and closures) is about
 * 0.8 MB of live heap per workflow: a worker holding 100 loops (200 workflows) kept 195 MB of
 * workflow heap after a full GC. Session workflows never validate a message, and most loops go
 * through whole sessions without one. (Sharing zod through the bundler's `preloadModules` fails:
 * the SDK deep-freezes shared modules and zod caches lazily on its own objects.)
 *
 * `require` is webpack's, synchronous: update validators cannot await. Nothing else in the
 * workflow bundle may import protocol/schemas/messages.ts or zod at run time (type imports are
 * fine); test/workflow-bundle.test.ts checks it.
 */
export function messageSchemas(): typeof MessageSchemaModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- webpack's lazy, synchronous require (see above)
  return (loaded ??= require('../protocol/schemas/messages.js') as typeof MessageSchemaModule);
}

/** Parses a message payload; a refusal throws an Error whose text is readable, not zod's JSON. */
export function parseMessage<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new Error(messageSchemas().messageErrorText(result.error));
  return result.data;
}
