import { isTransient, messageOf, TributaryError } from '../../core/errors.js';
import type { SqlClient } from '../types.js';
import { fullName, lit, q } from './dialect.js';

/** A view that reads a relation, as it is now: what it takes to create it again. */
interface SavedView {
  schema: string;
  /** Its stored name. */
  name: string;
  /** In the pipeline's schema (a model's view may be made anew from the model's SQL). */
  own: boolean;
  /** `pg_get_viewdef`: its SELECT, with the names it reads as they resolve now. */
  definition: string;
  /** `reloptions`: `check_option=local`, `security_barrier=true`, `security_invoker=true`. */
  options: string[] | null;
  comment: string | null;
  /** Column comments, as `[column, comment]`. */
  columnComments: Array<[string, string]>;
  /** GRANT statements for its privileges other than the connected user's own. */
  grants: string[];
  /** Triggers, rules other than its SELECT, or column defaults: what this file does not remake. */
  extras: boolean;
}

interface ViewRow {
  schema: string;
  name: string;
  own: boolean;
  definition: string;
  options: string[] | null;
  comment: string | null;
  column_comments: Array<[string, string]> | string | null;
  grants: string[] | null;
  extras: boolean;
}

/**
 * Every view reading `relation` (resolved in the pipeline's schema), directly or through other
 * views, dependencies first. A view is bound to the relations it reads by their OIDs, not their
 * names (pg_depend between the view's `_RETURN` rule and the relation): so a relation cannot be
 * dropped under its views, nor can the type of a column they read change. Only views: anything
 * else that depends on the relation (a materialized view, a function body) still stops the DROP.
 */
async function dependentViews(db: SqlClient, relation: string): Promise<SavedView[]> {
  const rows = await db.query<ViewRow>(
    `WITH RECURSIVE dep(oid, depth) AS (
       SELECT r.ev_class, 1
         FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = to_regclass(?) AND r.ev_class <> d.refobjid
       UNION
       SELECT r.ev_class, dep.depth + 1
         FROM dep
         JOIN pg_class v ON v.oid = dep.oid AND v.relkind = 'v'
         JOIN pg_depend d ON d.refobjid = dep.oid AND d.refclassid = 'pg_class'::regclass
                         AND d.classid = 'pg_rewrite'::regclass
         JOIN pg_rewrite r ON r.oid = d.objid AND r.ev_class <> dep.oid
     ), deepest AS (SELECT oid, MAX(depth) AS depth FROM dep GROUP BY oid)
     SELECT n.nspname AS schema, c.relname AS name, n.nspname = current_schema() AS own,
            pg_get_viewdef(c.oid) AS definition, c.reloptions AS options,
            obj_description(c.oid, 'pg_class') AS comment,
            (SELECT json_agg(json_build_array(a.attname, col_description(c.oid, a.attnum)) ORDER BY a.attnum)
               FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND col_description(c.oid, a.attnum) IS NOT NULL
            ) AS column_comments,
            (SELECT array_agg(format('GRANT %s ON %I.%I TO %s%s', g.privilege_type, n.nspname, c.relname,
                      CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                      CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END))
               FROM aclexplode(c.relacl) g
              WHERE g.grantee <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
            ) AS grants,
            EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid)
              OR EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN')
              OR EXISTS (SELECT 1 FROM pg_attrdef ad WHERE ad.adrelid = c.oid) AS extras
       FROM deepest JOIN pg_class c ON c.oid = deepest.oid AND c.relkind = 'v'
       JOIN pg_namespace n ON n.oid = c.relnamespace
      ORDER BY deepest.depth, n.nspname, c.relname`,
    [q(relation)],
  );
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    own: r.own,
    definition: r.definition.replace(/;\s*$/, ''),
    options: r.options,
    comment: r.comment,
    columnComments:
      typeof r.column_comments === 'string' ? JSON.parse(r.column_comments) : (r.column_comments ?? []),
    grants: r.grants ?? [],
    extras: r.extras,
  }));
}

/** An identifier as it is stored (no shortening: these names come from the catalog). */
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const qualified = (v: SavedView) => `${ident(v.schema)}.${ident(v.name)}`;

function createSql(v: SavedView, select: string): string {
  const options = (v.options ?? []).map((o) => {
    const at = o.indexOf('=');
    return `${ident(o.slice(0, at))} = ${lit(o.slice(at + 1))}`;
  });
  return `CREATE VIEW ${qualified(v)}${options.length > 0 ? ` WITH (${options.join(', ')})` : ''} AS\n${select}`;
}

/**
 * Run `change` — which drops, replaces or alters `relation` inside the open transaction `db` —
 * keeping the views that read it (Destination.keepDependentViews): they are saved, dropped
 * (dependents first), and created again after the change, in the same transaction, so that a
 * reader never finds one missing (PostgreSQL's DDL is transactional; the DROPs hold their views
 * locked until the commit).
 *
 * A view is made again from its saved definition, options, comment, column comments and
 * grants — owned by the connected user. When that definition no longer fits the new relation
 * (a column it read is gone), a view of the pipeline's schema for which `current` has a SELECT
 * (a model's, whose definition changed along with its upstream's) is made from that instead;
 * otherwise the change fails, naming the view, and the transaction rolls back. A view with
 * triggers, rules or column defaults, which this does not make again, stops the change first.
 */
export async function keepDependentViews<T>(
  db: SqlClient,
  relation: string,
  change: () => Promise<T>,
  current?: (view: string) => string | undefined,
): Promise<T> {
  const views = await dependentViews(db, relation);
  const odd = views.filter((v) => v.extras);
  if (odd.length > 0) {
    throw new TributaryError(
      'SCHEMA_CONFLICT',
      `cannot replace ${relation}: view(s) ${odd.map(qualified).join(', ')} read it and have triggers, rules or column defaults, which Tributary does not recreate; drop them, or make them read a copy`,
    );
  }
  for (const v of [...views].reverse()) await db.execute(`DROP VIEW ${qualified(v)}`);
  const result = await change();
  for (const v of views) await recreate(db, v, relation, current);
  return result;
}

async function recreate(
  db: SqlClient,
  v: SavedView,
  relation: string,
  current: ((view: string) => string | undefined) | undefined,
): Promise<void> {
  const point = ident('_tributary_view');
  await db.execute(`SAVEPOINT ${point}`);
  try {
    await db.execute(createSql(v, v.definition));
  } catch (err) {
    if (isTransient(err)) throw err;
    await db.execute(`ROLLBACK TO SAVEPOINT ${point}`);
    const select = v.own ? current?.(fullName(v.name) ?? v.name) : undefined;
    if (select === undefined) {
      throw new TributaryError(
        'SCHEMA_CONFLICT',
        `view ${qualified(v)} reads ${relation}, and its definition no longer fits the new ${relation}: ${messageOf(err)}; change or drop the view`,
        { cause: err },
      );
    }
    await db.execute(createSql(v, select));
  }
  await db.execute(`RELEASE SAVEPOINT ${point}`);
  if (v.comment !== null) await db.execute(`COMMENT ON VIEW ${qualified(v)} IS ${lit(v.comment)}`);
  const columns = new Set(
    (
      await db.query<{ name: string }>(
        'SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0',
        [qualified(v)],
      )
    ).map((c) => c.name),
  );
  for (const [column, comment] of v.columnComments) {
    if (columns.has(column))
      await db.execute(`COMMENT ON COLUMN ${qualified(v)}.${ident(column)} IS ${lit(comment)}`);
  }
  for (const grant of v.grants) await db.execute(grant);
}
