import type { z } from 'zod';

/** The field names a spec schema allows at a path, for "did you mean …?" on an unknown field. */

interface Def {
  type: string;
  shape?: Record<string, Schema>;
  element?: Schema;
  innerType?: Schema;
  in?: Schema;
  options?: Schema[];
  discriminator?: string;
}
interface Schema {
  _zod: { def: Def };
}

const unwrap = (s: Schema): Schema => {
  const def = s._zod.def;
  return def.innerType ? unwrap(def.innerType) : def.type === 'pipe' && def.in ? unwrap(def.in) : s;
};

/**
 * The object schemas a schema can be at this level: a union's objects, the one its discriminator
 * names when `value` gives it.
 */
function objectsOf(s: Schema, value: unknown): Schema[] {
  const u = unwrap(s);
  const def = u._zod.def;
  if (def.type === 'object') return [u];
  if (def.type !== 'union' || !def.options) return [];
  const tag =
    def.discriminator && value && typeof value === 'object'
      ? (value as Record<string, unknown>)[def.discriminator]
      : undefined;
  const all = def.options.flatMap((o) => objectsOf(o, value));
  const chosen = all.filter((o) => {
    const field = def.discriminator ? o._zod.def.shape?.[def.discriminator] : undefined;
    return field && (field._zod.def as { values?: unknown[] }).values?.includes(tag);
  });
  return chosen.length ? chosen : all;
}

/** Field names allowed in the object at `path` (whose value is `value`); [] when the path leads nowhere known. */
export function knownFields(schema: z.ZodType, path: readonly PropertyKey[], value: unknown): string[] {
  let level: Schema[] = [schema as unknown as Schema];
  for (const key of path) {
    level = level.flatMap((s) => {
      const u = unwrap(s);
      if (typeof key === 'number') return u._zod.def.type === 'array' && u._zod.def.element ? [u._zod.def.element] : [];
      return objectsOf(u, undefined).flatMap((o) =>
        o._zod.def.shape?.[String(key)] ? [o._zod.def.shape[String(key)]!] : [],
      );
    });
  }
  return [...new Set(level.flatMap((s) => objectsOf(s, value)).flatMap((o) => Object.keys(o._zod.def.shape ?? {})))];
}
