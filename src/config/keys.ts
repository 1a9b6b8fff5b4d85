import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
}

const defOf = (t: z.ZodType) => (t as unknown as { def: Def }).def;

/** Through `optional`, `nullable`, `default`: the type they wrap. */
function unwrap(t: z.ZodType): Def {
  let def = defOf(t);
  while (def.innerType && ['optional', 'nullable', 'default', 'prefault'].includes(def.type)) {
    def = defOf(def.innerType);
  }
  return def;
}

/** The types a path segment leads to from `t` (every option of a union). */
function step(t: z.ZodType, seg: PropertyKey): z.ZodType[] {
  const def = unwrap(t);
  switch (def.type) {
    case 'object': {
      const field = def.shape?.[String(seg)];
      return field ? [field] : [];
    }
    case 'array':
      return def.element && typeof seg === 'number' ? [def.element] : [];
    case 'record':
      return def.valueType ? [def.valueType] : [];
    case 'union':
      return (def.options ?? []).flatMap((o) => step(o, seg));
    default:
      return [];
  }
}

/**
 * The keys `schema` knows for the object at `path` of a config (`['sources', 0]`: a source's
 * keys), read from the schema itself so that a key added to it is known here at once; none
 * when there is no object there.
 */
export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let types = [schema];
  for (const seg of path) types = types.flatMap((t) => step(t, seg));
  const keys = types.flatMap((t) => {
    const def = unwrap(t);
    if (def.type === 'object') return Object.keys(def.shape ?? {});
    return def.type === 'union' ? (def.options ?? []).flatMap((o) => knownKeys(o, [])) : [];
  });
  return [...new Set(keys)];
}
