/** Every error code Tributary raises; stable, documented in docs/errors.md. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_ENV_MISSING'
  | 'SOURCE_UNREADABLE'
  | 'SOURCE_CHANGED'
  | 'SOURCE_FORMAT'
  | 'SCHEMA_CONFLICT'
  | 'LOAD_FAILED'
  | 'LOAD_TOO_MANY_REJECTS'
  | 'DEST_CONNECT'
  | 'DEST_QUERY'
  | 'LOCK_HELD'
  | 'LOCK_LOST'
  | 'FENCED'
  | 'QUEUE_UNAVAILABLE'
  | 'TRANSFORM_FAILED'
  | 'INTERRUPTED';

export interface ErrorContext {
  file?: string;
  line?: number;
  table?: string;
  column?: string;
  runId?: number;
}

/**
 * The one error class. `transient` tells the load loop whether retrying the same unit of
 * work may succeed (connection lost, deadlock) or not (bad config, bad file).
 */
export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly context: ErrorContext;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; transient?: boolean; context?: ErrorContext } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.code = code;
    this.transient = options.transient ?? false;
    this.context = options.context ?? {};
  }
}

export function isTransient(err: unknown): boolean {
  return err instanceof TributaryError && err.transient;
}

/** Message of any thrown value, without stack. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
