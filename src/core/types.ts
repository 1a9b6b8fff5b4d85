/**
 * Types shared by the stages. Stages (sources, schema, destinations, state, transforms)
 * never import each other; they meet in runner/ through these types.
 */

export type Format = 'csv' | 'json' | 'ndjson';

/** A record as a reader yields it: raw field values keyed by header name / JSON key. */
export interface SourceRecord {
  kind: 'record';
  /**
   * CSV: string values keyed by header (an empty field is `null`; headers that repeat
   * exactly are made unique by the reader as `name`, `name_2`, ...).
   * JSON/NDJSON: the parsed object (numbers that do not survive a double keep their
   * exact text as a `LosslessNumber`-like `{ isLosslessNumber: true, value: string }`).
   */
  data: Record<string, unknown>;
  /**
   * CSV: the field values in header order (an empty field is `null`), with `header`, the
   * same frozen array for every record of a file: `data` is `{ [header[i]]: values[i] }`.
   * The CSV reader builds `data` only when it is first read, so a consumer taking values
   * by position (the runner's passes) never pays for it. Absent for JSON records.
   */
  values?: readonly (string | null)[];
  header?: readonly string[];
  /** 1-based line of the file where the record starts. */
  line: number;
  /** 1-based record number within the file (a CSV header is not a record). */
  record: number;
}

/** A record that could not be parsed; it becomes a reject, the rest of the file goes on. */
export interface SourceProblem {
  kind: 'problem';
  line: number;
  record: number;
  code: RejectCode;
  message: string;
  /** Raw text of the record, cut to 64 KiB. */
  raw: string;
}

export type SourceItem = SourceRecord | SourceProblem;

/** Why a row did not load. Stable: stored in the rejects table and documented. */
export type RejectCode =
  | 'CSV_FIELD_COUNT'
  | 'CSV_QUOTE'
  | 'JSON_SYNTAX'
  | 'JSON_NOT_OBJECT'
  | 'MISSING_PRIMARY_KEY'
  | 'MISSING_CURSOR'
  | 'TYPE_MISMATCH'
  | 'CONTRACT_FROZEN'
  /** A value the destination cannot store (LiveTable.limits): a key longer than its column, JSON nested too deep, a JSON number too large. */
  | 'DEST_LIMIT';

/** Logical column types; each dialect maps them to physical types. */
export type ColumnType =
  | { kind: 'bool' }
  | { kind: 'integer' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'datetime' }
  | { kind: 'text' }
  | { kind: 'json' };

export type TypeKind = ColumnType['kind'];

export interface ColumnSchema {
  name: string;
  type: ColumnType;
}

export interface TableSchema {
  name: string;
  columns: ColumnSchema[];
  /** Empty for tables without a key (append / replace). */
  primaryKey: string[];
}

export type WriteDisposition = 'append' | 'merge' | 'replace';

/** A value ready for a destination: already coerced to its column's type. */
export type DbValue = string | number | bigint | boolean | null;

/** A planned schema change; each dialect renders it to DDL. */
export type SchemaChange =
  | { kind: 'create_table'; table: TableSchema; system: SystemColumns }
  | { kind: 'add_column'; table: string; column: ColumnSchema }
  | { kind: 'widen_column'; table: string; column: string; from: ColumnType; to: ColumnType };

/** Which bookkeeping columns a data table carries. */
export interface SystemColumns {
  /**
   * `_tributary_file_id`: the file that supplied the row. An append table drops a re-sent
   * file's earlier rows by it; a merge table's rebuild keeps the rows of deleted files by it.
   */
  fileId: boolean;
  /** `_tributary_idx`: position of a child row in its parent's array. */
  idx: boolean;
}

export type ContractMode = 'evolve' | 'freeze' | 'discard_row' | 'discard_value';

/**
 * Schema contract: what a file may change in a table, per kind of change (after dlt's
 * schema contracts; the modes are documented in docs/schema-evolution.md).
 */
export interface Contract {
  tables: ContractMode;
  columns: ContractMode;
  /** `text`: like `evolve`, and when no lossless type fits, the column becomes text. */
  dataType: ContractMode | 'text';
}

/**
 * How a column's text is written, when not the way inference reads it (a source's column
 * options, docs/configuration.md): numbers with a decimal comma or thousands separators,
 * dates in a `strftime`-like format. The column's text is read in this format, and only in
 * it (src/schema/formats.ts).
 */
export interface ColumnFormat {
  /** `,` for `12,50`; default `.`. */
  readonly decimalSeparator?: '.' | ',';
  /** `.` `,` `'` or ` ` between groups of three integer digits (`1.234,50`); default none. */
  readonly thousandsSeparator?: string;
  /** `%d/%m/%Y`, `%d.%m.%Y %H:%M` (the directives of src/schema/date-format.ts). */
  readonly dateFormat?: string;
}

/** A live table as read from the database catalog. System columns are listed apart. */
export interface LiveTable extends TableSchema {
  systemColumns: string[];
  /**
   * What the destination cannot store in this table, checked value by value before writing
   * so that such a value rejects its row (`DEST_LIMIT`) instead of failing the file.
   * Absent: no limit beyond the types'.
   */
  limits?: TableLimits;
  /**
   * Columns whose physical declaration is older than the dialect's current one for their
   * type (SQLite's `DECIMAL(p,s)` before `DECIMAL_BLOB(p,s)`): a `widen_column` to the same
   * type rebuilds the table with current declarations. Absent: none.
   */
  outdated?: string[];
}

export interface TableLimits {
  /** Text columns of bounded length (MySQL key columns are VARCHAR(n)): characters at most. */
  maxChars?: Readonly<Record<string, number>>;
  /** Deepest nesting of a `json` value (MariaDB's JSON_VALID refuses 32 levels). */
  jsonDepth?: number;
  /** Text and JSON cannot hold U+0000 (PostgreSQL's text and jsonb). */
  noNul?: boolean;
  /**
   * JSON cannot hold a UTF-16 surrogate escape without its pair (`"\ud800"` alone), which
   * JSON text allows (PostgreSQL's jsonb and MariaDB's JSON_VALID refuse it).
   */
  noLoneSurrogates?: boolean;
  /**
   * JSON numbers are stored exactly in a decimal of bounded size (PostgreSQL's jsonb: numeric):
   * a number fits when, written out in plain digits, it has at most `integerDigits` before the
   * point (leading zeros not counted) and at most `fractionDigits` after it (as many as written
   * less the exponent, trailing zeros included), and its exponent is within ±(their sum).
   */
  jsonNumbers?: { integerDigits: number; fractionDigits: number };
  /** UTF-8 bytes the primary key's values may take together (PostgreSQL's B-tree entry limit). */
  maxKeyBytes?: number;
}

/** One row of the root table with its child rows (values in the tables' column order). */
export interface RowNode {
  values: DbValue[];
  /** Per child table name: whole rows in that child table's column order (parent key and `_tributary_idx` filled in). */
  children?: Map<string, DbValue[][]>;
}

/** A record that did not become a row: where it is, why, and its raw text. */
export interface Reject {
  table: string;
  line: number;
  record: number;
  code: RejectCode;
  column: string | null;
  message: string;
  /** Raw record text (CSV/JSON line) or the parsed record as JSON, cut to 64 KiB. */
  raw: string;
}
