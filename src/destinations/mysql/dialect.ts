import { TributaryError } from '../../core/errors.js';
import type { ColumnType } from '../../core/types.js';
import { type CreateTableInput, createTableSql } from '../sql.js';
import { type SqlDialect, SYS_FILE_ID, SYS_IDX } from '../types.js';

/**
 * Column comment that marks a logical `json` column. MariaDB's JSON is an alias of
 * LONGTEXT with a `json_valid` CHECK, so its catalog says `longtext`; the comment is part
 * of the column definition, written by the same DDL statement, so the catalog can never
 * disagree with it.
 */
export const JSON_TAG = 'tributary:json';

/**
 * Binary collations, best first. A NO PAD collation compares bytes exactly, so keys that
 * differ in case, accents or trailing spaces stay distinct as in SQLite; `utf8mb4_bin` is
 * PAD SPACE ('a' = 'a '), the fallback for servers without the first two.
 */
export const BINARY_COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin'] as const;

/** InnoDB's limit on the bytes of one index (DYNAMIC rows), and the bytes a utf8mb4 character may take. */
const MAX_KEY_BYTES = 3072;
const UTF8MB4_BYTES = 4;
/** Bytes budgeted per non-text key column: DECIMAL(65,30) takes 30, BIGINT and DATETIME(6) 8. */
const NON_TEXT_KEY_BYTES = 32;
/** VARCHAR length of `typeSql(text, key=true)` when the table's key is unknown: fits three text keys and an index. */
const DEFAULT_KEY_CHARS = 255;
/**
 * State-table keys (`UNIQUE (pipeline, path)`): two columns of 384 characters use exactly
 * the 3,072 bytes MySQL 8 allows (MariaDB would hash a longer unique key, MySQL refuses it).
 */
const STATE_KEY_CHARS = 384;

/** An identifier quoted for MySQL (backticks, a backtick in the name doubled). */
export const q = (id: string) => `\`${id.replaceAll('`', '``')}\``;

function typeSql(t: ColumnType, key: boolean, keyChars = DEFAULT_KEY_CHARS): string {
  switch (t.kind) {
    case 'bool':
      return 'BOOLEAN';
    case 'integer':
      return 'BIGINT';
    case 'decimal':
      return `DECIMAL(${t.precision},${t.scale})`;
    case 'date':
      return 'DATE';
    case 'datetime':
      // Microseconds: the normalizer keeps fractional seconds; DATETIME alone would round them away.
      return 'DATETIME(6)';
    case 'text':
      // LONGTEXT, not TEXT (64 KiB) or MEDIUMTEXT (16 MiB): a value the reader accepted must
      // never fail on length; the length prefix costs one byte more and nothing else.
      return key ? `VARCHAR(${keyChars})` : 'LONGTEXT';
    case 'json':
      return `JSON COMMENT '${JSON_TAG}'`;
  }
}

/**
 * MySQL/MariaDB physical types. `collation` is the server's best binary collation (see
 * BINARY_COLLATIONS); state tables name it explicitly so they are exact even in a database
 * whose default is case-insensitive.
 */
export function mysqlDialect(collation: string = BINARY_COLLATIONS[2]): SqlDialect {
  const text = `CHARACTER SET utf8mb4 COLLATE ${collation}`;
  return {
    name: 'mysql',
    quote: q,
    typeSql: (t, key) => typeSql(t, key),
    autoIdSql: (name) => `${q(name)} BIGINT AUTO_INCREMENT PRIMARY KEY`,
    keyTextSql: `VARCHAR(${STATE_KEY_CHARS}) ${text}`,
    longTextSql: `LONGTEXT ${text}`,
    shareLockSql: 'LOCK IN SHARE MODE',
    exactNumberSql,
  };
}

/**
 * A string or a double parameter would be compared with a BIGINT or DECIMAL column as a
 * double (MySQL's comparison rules), so 9007199254740993 would equal …992: the text cast to
 * the DECIMAL that holds it exactly makes it a decimal comparison. Beyond DECIMAL(65,30) no
 * column holds the value exactly anyway: the text as it is.
 */
function exactNumberSql(text: string): { sql: string; params: string[] } {
  const [int = '', frac = ''] = text.replace('-', '').split('.');
  const scale = frac.length;
  const precision = int.length + scale;
  if (precision > 65 || scale > 30) return { sql: '?', params: [text] };
  return { sql: `CAST(? AS DECIMAL(${precision},${scale}))`, params: [text] };
}

/**
 * VARCHAR length of the text columns of a primary key so that the whole key fits InnoDB's
 * 3,072 bytes. A table that is not a child table reserves room for `_tributary_idx`, so a
 * child table (parent key + `_tributary_idx`) gets the same length as its parent and every
 * parent key fits its children.
 */
export function keyTextChars(columns: CreateTableInput['columns'], primaryKey: readonly string[]): number {
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const keyTypes = primaryKey.map((k) => types.get(k));
  const texts = keyTypes.filter((t) => t?.kind === 'text').length;
  if (texts === 0) return DEFAULT_KEY_CHARS;
  const others = keyTypes.length - texts + (primaryKey.includes(SYS_IDX) ? 0 : 1);
  const chars = Math.floor((MAX_KEY_BYTES - others * NON_TEXT_KEY_BYTES) / (texts * UTF8MB4_BYTES));
  if (chars < 16) {
    throw new TributaryError(
      'SCHEMA_CONFLICT',
      `primary key (${primaryKey.join(', ')}) is too wide for MySQL: ${texts} text columns leave ${chars} characters each`,
    );
  }
  return chars;
}

/**
 * CREATE TABLE for a data table: the shared text with key text columns sized by
 * `keyTextChars`, an index on `_tributary_file_id` of a table without a key (a re-sent append file deletes its
 * earlier rows by it; without the index that DELETE scans and locks the whole table), and
 * InnoDB with the binary collation.
 */
export function createTableDdl(input: CreateTableInput, collation: string): string {
  const chars = keyTextChars(input.columns, input.primaryKey);
  const sized: SqlDialect = { ...mysqlDialect(collation), typeSql: (t, key) => typeSql(t, key, chars) };
  const base = createTableSql(sized, input);
  // Only a table without a key deletes by it (a re-sent append file); a merge table keeps the
  // column for provenance and rebuilds whole (src/runner/reconcile.ts), so needs no index.
  const body =
    input.system.fileId && input.primaryKey.length === 0
      ? `${base.slice(0, -2)},\n  KEY ${q(SYS_FILE_ID)} (${q(SYS_FILE_ID)})\n)`
      : base;
  return `${body} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`;
}

/** Column definition for ADD/MODIFY COLUMN (a key column keeps its NOT NULL). */
export function columnDefSql(
  name: string,
  type: ColumnType,
  key: boolean,
  keyChars = DEFAULT_KEY_CHARS,
): string {
  return `${q(name)} ${typeSql(type, key, keyChars)}${key ? ' NOT NULL' : ''}`;
}

/** What information_schema.COLUMNS says about one column. */
export interface PhysicalColumn {
  dataType: string;
  columnType: string;
  precision: number | null;
  scale: number | null;
  comment: string;
}

/** Logical type of a physical column; unknown types read as text (as in the SQLite catalog). */
export function parseMysqlType(c: PhysicalColumn): ColumnType {
  if (c.comment === JSON_TAG) return { kind: 'json' };
  const dt = c.dataType.toLowerCase();
  const ct = c.columnType.toLowerCase();
  switch (dt) {
    case 'json':
      return { kind: 'json' };
    case 'tinyint':
      return /^tinyint\(1\)/.test(ct) ? { kind: 'bool' } : { kind: 'integer' };
    case 'bit':
      return ct === 'bit(1)' ? { kind: 'bool' } : { kind: 'text' };
    case 'bigint':
    case 'int':
    case 'integer':
    case 'mediumint':
    case 'smallint':
      return { kind: 'integer' };
    case 'decimal':
    case 'numeric':
      return { kind: 'decimal', precision: c.precision ?? 10, scale: c.scale ?? 0 };
    case 'date':
      return { kind: 'date' };
    case 'datetime':
    case 'timestamp':
      return { kind: 'datetime' };
    default:
      return { kind: 'text' };
  }
}
