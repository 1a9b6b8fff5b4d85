import { formatKey } from './quote.js';

/**
 * `${NAME}` and `${NAME:-default}` interpolation in every string of the parsed YAML (values
 * only, after parsing, so a value can never inject YAML structure). `$${` escapes a literal.
 */
const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Interpolated {
  value: unknown;
  /** Each missing variable with the config key it was used in. */
  missing: Array<{ name: string; key: string }>;
}

export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const missing: Interpolated['missing'] = [];
  const walk = (v: unknown, at: PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      return v.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        const found = env[name as string];
        if (found !== undefined && found !== '') return found;
        if (fallback !== undefined) return fallback;
        missing.push({ name: name as string, key: formatKey(at) || '(top level)' });
        return '';
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...at, i]));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...at, k])]));
    }
    return v;
  };
  return { value: walk(value, []), missing };
}
