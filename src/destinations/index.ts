import type { DestinationConfig } from '../config/destination.js';
import type { Destination } from './types.js';

/** The destination for a config; a dialect's driver is loaded only when it is used. */
export async function createDestination(config: DestinationConfig): Promise<Destination> {
  if (config.kind === 'sqlite') {
    const { SqliteDestination } = await import('./sqlite/index.js');
    return new SqliteDestination(config.path);
  }
  if (config.kind === 'postgres') {
    const { PostgresDestination } = await import('./postgres/index.js');
    return new PostgresDestination(config);
  }
  const { MysqlDestination } = await import('./mysql/index.js');
  return new MysqlDestination(config);
}
