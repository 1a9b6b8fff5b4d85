import { DEFAULT_CONFIG_FILE, loadConfig, type ResolvedConfig } from '../config/resolve.js';
import type { ColumnType } from '../core/types.js';
import { checkColumnFormat } from '../schema/formats.js';
import { parseTypeHint } from '../schema/hints.js';
import { normalizeTableName } from '../schema/naming.js';
import { parseDataTest } from '../transforms/data-test.js';

/**
 * Load and validate a pipeline's config the way every command does: type hints and data tests
 * parsed, column formats checked, and table and column names normalized as the loader will
 * (default file: ./tributary.yaml).
 */
export function readPipelineConfig(file: string | undefined): ResolvedConfig {
  return loadConfig(file ?? DEFAULT_CONFIG_FILE, {
    parseType: parseTypeHint,
    checkFormat: (format, type) => checkColumnFormat(format, type as ColumnType | undefined),
    normalizeName: normalizeTableName,
    parseTest: (text) => parseDataTest(text).error,
  });
}
