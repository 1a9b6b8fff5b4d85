/** Where `tributary ui` listens unless told (its own module: the CLI reads it at start-up). */
export const DEFAULT_PORT = 4747;
export const DEFAULT_HOST = '127.0.0.1';
